/**
 * A host as the rest of fanout sees it once the plan is loaded: its name
 * (what `{{ host }}`, events and `--limit` say), how it is reached, and its
 * vars. A `local` host is a label: its commands run on this machine.
 */
import type { SshTarget } from "../ssh/target.ts";
import type { Connection } from "./schema.ts";

export interface Host {
  name: string;
  connection: Connection;
  /** Address or ssh_config alias (default: the name). */
  address?: string;
  port?: number;
  user?: string;
  /** `{{ host.vars.x }}`. */
  vars: Readonly<Record<string, unknown>>;
  /** The plan's `ssh_options:`, then the host's own, as `Key=Value`. */
  sshOptions: string[];
}

/** The run-wide ssh settings that come from the command line, not the plan. */
export interface SshSettings {
  /** `--ssh-config FILE`: passed to every ssh call as `-F FILE`. */
  configFile?: string;
  /** `--ssh-accept-new`: a host key seen for the first time is added to known_hosts instead of refused. */
  acceptNew?: boolean;
}

/** The ssh client's view of an ssh host (no control path yet: the run's connections add it). */
export function sshTargetOf(host: Host, settings: SshSettings = {}): SshTarget {
  if (host.connection !== "ssh") throw new Error(`Internal error: host ${host.name} is not an ssh host`);
  const options = settings.acceptNew ? ["StrictHostKeyChecking=accept-new", ...host.sshOptions] : [...host.sshOptions];
  return {
    name: host.name,
    address: host.address ?? host.name,
    ...(host.port !== undefined ? { port: host.port } : {}),
    ...(host.user !== undefined ? { user: host.user } : {}),
    options,
    ...(settings.configFile !== undefined ? { configFile: settings.configFile } : {}),
  };
}

/** A plain string host: a local label (or an ssh host named by its address, under `connection: ssh`). */
export function hostNamed(name: string, connection: Connection = "local", sshOptions: string[] = []): Host {
  return { name, connection, vars: {}, sshOptions: connection === "ssh" ? sshOptions : [] };
}
