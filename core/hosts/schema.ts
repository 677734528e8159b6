/**
 * How hosts are written: in a plan's `hosts:`, or in an inventory file
 * (`inventory: hosts.yml`). A plain string is a host's name; a mapping says
 * how to reach it. core/plan/schema.ts puts these into the plan's schema.
 */
import * as v from "../deps_valibot.ts";

const about = <S extends v.GenericSchema>(text: string, schema: S) => v.pipe(schema, v.description(text));

export const CONNECTIONS = ["local", "ssh"] as const;
export type Connection = (typeof CONNECTIONS)[number];

export const ConnectionSchema = v.picklist(CONNECTIONS, `expected connection: ${CONNECTIONS.join(" or ")}`);

/** Any text, as host labels always were: it reaches commands only through templates, which quote it for the shell. */
export const HostNameSchema = v.string("expected a host name as a string");

/** An ssh option as `Key=Value`: passed to ssh as `-o Key=Value`. */
const SSH_OPTION = /^[A-Za-z][A-Za-z0-9]*=\S.*$/;
const SSH_OPTIONS_EXPECTED = 'expected ssh_options as a list of "Key=Value" or a mapping of Key: value (ssh_config options)';

/** `ssh_options: [ConnectTimeout=5]` or `ssh_options: { ConnectTimeout: 5 }`. */
export const SshOptionsSchema = v.union(
  [
    v.array(v.pipe(v.string('expected each ssh option as "Key=Value"'), v.regex(SSH_OPTION, 'expected each ssh option as "Key=Value"'))),
    v.record(
      v.pipe(v.string(), v.regex(/^[A-Za-z][A-Za-z0-9]*$/, "expected an ssh option name like ConnectTimeout")),
      v.union([v.string(), v.number(), v.boolean()], "expected each ssh option's value as a string, number or boolean"),
    ),
  ],
  SSH_OPTIONS_EXPECTED,
);

const port = v.pipe(
  v.number("expected port as a whole number from 1 to 65535"),
  v.integer("expected port as a whole number from 1 to 65535"),
  v.minValue(1, "expected port from 1 to 65535"),
  v.maxValue(65535, "expected port from 1 to 65535"),
);

/** `{ name, address, port, user, connection, vars, ssh_options }`. */
export const HostObjectSchema = v.strictObject({
  name: about("The host's name: what {{ host }}, events and task hosts: say", HostNameSchema),
  address: about("Address or ssh_config alias to connect to (default: the name)", v.optional(v.pipe(v.string("expected address as a string"), v.minLength(1, "expected address, got an empty string")))),
  port: about("ssh port (default: ssh's, usually 22)", v.optional(port)),
  user: about("ssh user (default: ssh's)", v.optional(v.pipe(v.string("expected user as a string"), v.minLength(1, "expected user, got an empty string")))),
  connection: about("local: a label, commands run on this machine; ssh: commands run on the host (default: the plan's connection:)", v.optional(ConnectionSchema)),
  vars: about("Values for {{ host.vars.x }}", v.optional(v.record(v.string(), v.unknown(), "expected vars as a mapping"))),
  ssh_options: about("Extra ssh options for this host, after the plan's", v.optional(SshOptionsSchema)),
});

/** A host as written: its name, or a mapping. */
export const HostEntrySchema = v.union([HostNameSchema, HostObjectSchema], "expected a host as a name or a mapping with name (and address, port, user, connection, vars, ssh_options)");

export const HostListSchema = v.pipe(v.array(HostEntrySchema, "expected hosts as a list"), v.minLength(1, "expected at least one host"));

/** An inventory file: hosts, and groups of them that a task's `hosts:` may name. */
export const InventorySchema = v.strictObject({
  hosts: about("The hosts, as in a plan's hosts:", HostListSchema),
  groups: about("Group name -> its hosts; a task's hosts: may name a group", v.optional(v.record(v.string(), v.array(v.string("expected each member as a host name"), "expected a group as a list of host names"), "expected groups as a mapping of name: [hosts]"))),
});

/** A task's `hosts:`: one host or group name, or a list of them. */
export const TaskHostsSchema = v.union(
  [v.string(), v.pipe(v.array(v.string("expected each of hosts to be a host or group name"), "expected hosts as a list"), v.minLength(1, "expected at least one host"))],
  "expected hosts as a host or group name, or a list of them",
);

export type HostObjectInput = v.InferOutput<typeof HostObjectSchema>;
export type SshOptionsInput = v.InferOutput<typeof SshOptionsSchema>;

/** `ssh_options` as `Key=Value` strings, in the order written. */
export function sshOptionList(options: SshOptionsInput | undefined): string[] {
  if (options === undefined) return [];
  if (Array.isArray(options)) return options;
  return Object.entries(options).map(([k, value]) => `${k}=${typeof value === "boolean" ? (value ? "yes" : "no") : value}`);
}
