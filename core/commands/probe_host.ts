/**
 * `fanout probe --host …`: the probe of an ssh host (core/ssh/remote_probe.ts),
 * printed in the same shape as the local probe's. The host is written
 * `[user@]address[:port]` (an IPv6 address in brackets: `[::1]:2222`) or an
 * alias of the ssh config; `--ssh-config` and `-o Key=Value` go to ssh as
 * `-F` and `-o`.
 */
import { UsageError } from "../errors.ts";
import type { SshTarget } from "../ssh/target.ts";

export interface ProbeHostFlags {
  host?: unknown;
  sshConfig?: unknown;
  /** cac gives one string, or an array when -o is repeated. */
  sshOption?: unknown;
}

/** `deploy@10.0.0.5:2222` → an SshTarget named after the whole spec. */
export function parseHostSpec(spec: string): Omit<SshTarget, "options"> {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s\[\]]+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new UsageError(`--host: expected NAME or [user@]address[:port], got ${JSON.stringify(spec)}`);
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && !(port >= 1 && port <= 65535)) throw new UsageError(`--host ${spec}: expected a port from 1 to 65535, got ${m[3]}`);
  const address = m[2]!.startsWith("[") ? m[2]!.slice(1, -1) : m[2]!;
  return { name: spec, address, port, user: m[1] };
}

/** The flags as a target, checked: each -o must be Key=Value. */
export function targetFromFlags(flags: ProbeHostFlags): SshTarget {
  const options = flags.sshOption === undefined ? [] : [flags.sshOption].flat().map(String);
  for (const o of options) {
    if (!/^[A-Za-z]+=.+/s.test(o)) throw new UsageError(`-o: expected an ssh option as Key=Value, got ${JSON.stringify(o)}`);
  }
  if (flags.sshConfig !== undefined && (typeof flags.sshConfig !== "string" || flags.sshConfig === "")) {
    throw new UsageError("--ssh-config: expected a file path");
  }
  const configFile = typeof flags.sshConfig === "string" ? flags.sshConfig : undefined;
  return { ...parseHostSpec(String(flags.host)), options, configFile };
}
