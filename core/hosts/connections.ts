/**
 * The ssh masters of one run, for whoever runs its instances: the run
 * itself, or a worker serving a distributed run (which opens its own
 * connections to the plan's ssh hosts).
 */
import type { Plan } from "../plan/plan.ts";
import { SshConnections } from "../runtime/ssh.ts";
import { type SshSettings, sshTargetOf } from "./host.ts";

export type SshRunSettings = SshSettings & { retriesUnreachable?: number };

/** The run's ssh masters, when a planned host is an ssh host; undefined otherwise. */
export function sshConnectionsFor(plan: Plan, settings: SshRunSettings = {}): SshConnections | undefined {
  const ssh = plan.hosts.flatMap((name) => (plan.hostInfo?.[name]?.connection === "ssh" ? [plan.hostInfo[name]!] : []));
  if (ssh.length === 0) return undefined;
  return new SshConnections(new Map(ssh.map((h) => [h.name, sshTargetOf(h, settings)])), { retries: settings.retriesUnreachable });
}
