/**
 * The plan's hosts and groups: from `hosts:` and from an inventory file
 * (`inventory: hosts.yml`, relative to the plan), with the plan-wide
 * `connection:` and `ssh_options:` applied. Problems in the inventory point
 * at the inventory file's line:col, problems in the plan at the plan's.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as v from "../deps_valibot.ts";
import { PlanError, PlanErrors } from "../errors.ts";
import { issuesToErrors, parseFields } from "../plan/issues.ts";
import { formatPath, type PathKey, type YamlSource } from "../plan/source.ts";
import { didYouMean } from "../suggest.ts";
import { hostNamed, type Host } from "./host.ts";
import { type Connection, HostNameSchema, HostObjectSchema, type HostObjectInput, InventorySchema, sshOptionList, type SshOptionsInput } from "./schema.ts";

export interface PlanHostsInput {
  hosts?: unknown[];
  inventory?: string;
  connection?: Connection;
  ssh_options?: SshOptionsInput;
}

export interface ResolvedHosts {
  /** Every host, plan's first, in the order written; undefined when they could not be read. */
  hosts: Host[] | undefined;
  /** Group name → member host names. */
  groups: Map<string, string[]>;
  errors: PlanError[];
}

const errorAt = (source: YamlSource, path: PathKey[], detail: string, key = false) =>
  new PlanError(detail, source.positionOf(path, { key }), formatPath(path));

/** The plan's hosts and its inventory's; `[localhost]` when neither names any. */
export async function resolveHosts(top: PlanHostsInput, dir: string, source: YamlSource): Promise<ResolvedHosts> {
  const connection = top.connection ?? "local";
  const planOptions = sshOptionList(top.ssh_options);
  const errors: PlanError[] = [];
  const groups = new Map<string, string[]>();
  const hosts: PlacedHost[] = [];
  let complete = true;
  if (top.hosts) {
    const read = readHosts(top.hosts, ["hosts"], source, connection, planOptions);
    hosts.push(...read.hosts);
    errors.push(...read.errors);
  }
  if (top.inventory !== undefined) {
    const inventory = await readInventory(resolve(dir, top.inventory), source, connection, planOptions);
    errors.push(...inventory.errors);
    if (!inventory.complete) complete = false;
    for (const h of inventory.hosts) {
      if (hosts.some((o) => o.name === h.name)) errors.push(inventory.errorAt(h.at, `host "${h.name}" is also in the plan's hosts: list each host once`));
      else hosts.push(h);
    }
    for (const [name, members] of inventory.groups) groups.set(name, members);
  }
  if (!top.hosts && top.inventory === undefined) hosts.push(hostNamed("localhost", connection, planOptions));
  // A host list with a problem in it is not checked against: one mistake is reported once.
  const whole = complete && errors.length === 0;
  return { hosts: whole ? hosts.map(({ at: _at, ...h }) => h) : undefined, groups, errors };
}

type PlacedHost = Host & { at?: PathKey[] };

/** A list of host entries, each a name or a mapping; duplicates are refused. */
function readHosts(entries: unknown[], base: PathKey[], source: YamlSource, connection: Connection, planOptions: string[]): { hosts: PlacedHost[]; errors: PlanError[] } {
  const hosts: PlacedHost[] = [];
  const errors: PlanError[] = [];
  entries.forEach((entry, i) => {
    const at = [...base, i];
    let host: PlacedHost | undefined;
    if (typeof entry === "string") {
      const named = v.safeParse(HostNameSchema, entry);
      if (!named.success) errors.push(...issuesToErrors(named.issues, HostNameSchema, source, at));
      else host = { ...hostNamed(entry, connection, planOptions), at };
    } else {
      const parsed = parseFields(HostObjectSchema.entries, entry, source, at, "a host as a name or a mapping with name");
      errors.push(...parsed.errors);
      if (parsed.complete) host = { ...hostOf(parsed.parts as HostObjectInput, connection, planOptions), at };
    }
    if (!host) return;
    const first = hosts.find((h) => h.name === host.name);
    if (first) errors.push(errorAt(source, entryNameAt(entry, at), `duplicate host "${host.name}" (already ${formatPath(first.at!)}); list each host once`));
    else hosts.push(host);
  });
  return { hosts, errors };
}

const entryNameAt = (entry: unknown, at: PathKey[]): PathKey[] => (typeof entry === "string" ? at : [...at, "name"]);

function hostOf(h: HostObjectInput, connection: Connection, planOptions: string[]): Host {
  const own = h.connection ?? connection;
  return {
    name: h.name,
    connection: own,
    ...(h.address !== undefined ? { address: h.address } : {}),
    ...(h.port !== undefined ? { port: h.port } : {}),
    ...(h.user !== undefined ? { user: h.user } : {}),
    vars: Object.freeze({ ...h.vars }),
    sshOptions: own === "ssh" ? [...planOptions, ...sshOptionList(h.ssh_options)] : [],
  };
}

interface Inventory {
  hosts: PlacedHost[];
  groups: Map<string, string[]>;
  errors: PlanError[];
  complete: boolean;
  errorAt(path: PathKey[] | undefined, detail: string): PlanError;
}

const InventoryHeadEntries = { ...InventorySchema.entries, hosts: v.pipe(v.array(v.unknown(), "expected hosts as a list"), v.minLength(1, "expected at least one host")) };

async function readInventory(file: string, plan: YamlSource, connection: Connection, planOptions: string[]): Promise<Inventory> {
  const failed = (error: PlanError): Inventory => ({ hosts: [], groups: new Map(), errors: [error], complete: false, errorAt: () => error });
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return failed(errorAt(plan, ["inventory"], code === "ENOENT" ? `inventory file not found: ${file}` : `cannot read inventory file ${file} (${code ?? e})`));
  }
  // Read with positions from the start: an inventory is small, and its problems point into it.
  const { PositionedSource } = await import("../plan/positioned_source.ts");
  let source: YamlSource;
  let raw: unknown;
  try {
    const positioned = PositionedSource.parse(text, file);
    raw = positioned.toJS();
    source = positioned;
  } catch (e) {
    if (e instanceof PlanErrors) return { ...failed(e.errors[0]!), errors: e.errors };
    throw e;
  }
  const at = (path: PathKey[] | undefined, detail: string) => errorAt(source, path ?? [], detail);
  const head = parseFields(InventoryHeadEntries, raw, source, [], "an inventory as a mapping with hosts (and groups)");
  const parts = head.parts as { hosts?: unknown[]; groups?: Record<string, string[]> };
  const errors = [...head.errors];
  const read = parts.hosts ? readHosts(parts.hosts, ["hosts"], source, connection, planOptions) : { hosts: [], errors: [] };
  errors.push(...read.errors);
  const groups = new Map<string, string[]>();
  const names = read.hosts.map((h) => h.name);
  // Members are checked against a host list that was read whole: one mistake is reported once.
  const membersKnown = parts.hosts !== undefined && read.errors.length === 0;
  for (const [name, members] of Object.entries(parts.groups ?? {})) {
    if (names.includes(name)) errors.push(at(["groups", name], `group "${name}" has the name of a host; hosts and groups share one namespace`));
    members.forEach((m, j) => {
      if (membersKnown && !names.includes(m)) errors.push(at(["groups", name, j], `unknown host "${m}"${didYouMean(m, names)}; expected one of the inventory's hosts: ${names.join(", ")}`));
    });
    groups.set(name, members);
  }
  return { hosts: read.hosts, groups, errors, complete: head.complete && read.errors.length === 0, errorAt: at };
}

/** A task's `hosts:` (names and group names) as host names, each once, in the order written. */
export function expandHostNames(written: string[], groups: ReadonlyMap<string, string[]>): string[] {
  const out = new Set<string>();
  for (const name of written) for (const h of groups.get(name) ?? [name]) out.add(h);
  return [...out];
}
