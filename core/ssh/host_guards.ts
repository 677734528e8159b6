/**
 * Hints keep their meaning across hosts: CPU tokens are per ssh host (the
 * host's own core count) and I/O tokens per ssh host and device (the disk
 * under the login directory there, with the local probe's depth rules),
 * while local hosts keep the run's pools. The run calls this once, before
 * anything starts, with its ssh hosts by name; each host is probed once
 * (RemoteProbes) and the probes run side by side.
 */
import type { GuardSet } from "../guards/guard_set.ts";
import { type PoolStorage, poolFor, type StorageType } from "../machine.ts";
import { type RemoteProbeReport, RemoteProbes } from "./remote_probe.ts";
import type { SshTarget } from "./target.ts";

/** What one ssh host's pools were sized to, and why (for run_start and `fanout explain`). */
export interface HostPools {
  /** The path on the host whose disk sized the I/O pool (the login directory). */
  path: string;
  cpu: number;
  cpuReason: string;
  io: { name: string; tokens: number; sequentialIoWeight: number; storageType: PoolStorage; reason: string };
}

export interface HostPoolOptions {
  /** The run's --io-tokens / resources.io_tokens: speaks for every host's disk too. */
  ioTokens?: number;
  storageType?: StorageType;
  probes?: RemoteProbes;
  signal?: AbortSignal;
}

/**
 * Probes every ssh host and gives each its own CPU pool ("cpu:HOST") and
 * I/O pool ("io:HOST:MAJ:MIN") in `guards`. Rejects with the first probe's
 * failure (an unreachable host): the caller decides what that host's tasks
 * become.
 */
export async function addSshHostPools(guards: GuardSet, hosts: ReadonlyMap<string, SshTarget>, options: HostPoolOptions = {}): Promise<Map<string, HostPools>> {
  const probes = options.probes ?? new RemoteProbes();
  const entries = await Promise.all([...hosts].map(async ([name, target]) => [name, await probes.of(target, options.signal)] as const));
  const out = new Map(entries.map(([name, report]) => [name, poolsOf(name, report, options)]));
  installHostPools(guards, out);
  return out;
}

/**
 * The pools of each host that `connect` reaches, probed side by side through
 * its connection; a host that cannot be reached or probed is left out (it
 * keeps the run's pools, and its tasks end `unreachable` when they try it).
 */
export async function probeHostPools(hosts: readonly string[], connect: (host: string) => Promise<SshTarget | undefined>, options: HostPoolOptions = {}): Promise<Map<string, HostPools>> {
  const probes = options.probes ?? new RemoteProbes();
  const settled = await Promise.allSettled(hosts.map(async (name) => {
    const target = await connect(name);
    return target && ([name, poolsOf(name, await probes.of(target, options.signal), options)] as const);
  }));
  return new Map(settled.flatMap((r) => (r.status === "fulfilled" && r.value ? [r.value] : [])));
}

/** Gives each host in `pools` its own CPU and I/O pools in `guards` (before any guard is declared). */
export function installHostPools(guards: GuardSet, pools: ReadonlyMap<string, HostPools>): void {
  for (const [name, sizes] of pools) {
    guards.addHostPools(name, { cpu: sizes.cpu, io: { name: sizes.io.name, capacity: sizes.io.tokens, sequentialIoWeight: sizes.io.sequentialIoWeight } });
  }
}

function poolsOf(name: string, report: RemoteProbeReport, options: HostPoolOptions): HostPools {
  const res = report.device.resolution;
  const device = res.disks[0]?.devno ?? res.devno ?? "unknown";
  const pool = poolFor(report.path, `io:${name}:${device}`, options.storageType ?? "auto", options.ioTokens, report.device);
  return {
    path: report.path,
    cpu: report.cores.cores,
    cpuReason: `the ${report.cores.cores} cores of ${name} (${report.cores.reason})`,
    io: { name: pool.name, tokens: pool.tokens, sequentialIoWeight: pool.sequentialIoWeight, storageType: pool.storageType, reason: `${report.path} on ${name}: ${pool.reason}` },
  };
}
