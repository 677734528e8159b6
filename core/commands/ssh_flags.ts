/** `--ssh-config`, `--ssh-accept-new`, `--retries-unreachable`: how a run reaches its ssh hosts. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../errors.ts";
import type { RunOptions } from "./run.ts";

export interface SshFlags {
  sshConfig?: unknown;
  sshAcceptNew?: boolean;
  retriesUnreachable?: unknown;
}

export function parseSshFlags(flags: SshFlags): RunOptions["ssh"] {
  const out: NonNullable<RunOptions["ssh"]> = {};
  if (flags.sshConfig !== undefined) {
    if (typeof flags.sshConfig !== "string" || flags.sshConfig === "") throw new UsageError(`--ssh-config: expected a path to an ssh_config file, got ${JSON.stringify(flags.sshConfig)}`);
    const path = resolve(flags.sshConfig);
    if (!existsSync(path)) throw new UsageError(`--ssh-config: no such file: ${path}`);
    out.configFile = path;
  }
  if (flags.sshAcceptNew) out.acceptNew = true;
  if (flags.retriesUnreachable !== undefined) {
    const n = Number(flags.retriesUnreachable);
    if (!Number.isInteger(n) || n < 0 || typeof flags.retriesUnreachable === "boolean") {
      throw new UsageError(`--retries-unreachable: expected a whole number >= 0, got ${JSON.stringify(flags.retriesUnreachable)}`);
    }
    out.retriesUnreachable = n;
  }
  return out;
}
