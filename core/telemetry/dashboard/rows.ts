/**
 * Which guards the dashboard shows, and which one is the bottleneck. Pure:
 * guard states in, rows out.
 *
 * Shown: the fork limit and CPU always; every I/O pool, memory guard and
 * host lock that has been taken or has waiters — host locks only the
 * busiest few, since a plan may have thousands; every bucket, global lock
 * and parallel group.
 */
import type { GuardLive } from "../../guards/guard_usage.ts";

/** Host locks shown at most; the rest are counted on one line. */
export const HOST_ROWS = 3;

const KIND_ORDER: Record<string, number> = { forks: 0, cpu: 1, io: 2, mem: 3, bucket: 4, global: 5, group: 6, host: 7 };

/** Busiest first: most waiting, then the fullest, then the longest recent waits. */
function busier(a: GuardLive, b: GuardLive): number {
  return b.queue - a.queue || b.inUse / Math.max(1, b.capacity) - a.inUse / Math.max(1, a.capacity) || b.waitP95 - a.waitP95 || a.name.localeCompare(b.name);
}

const touched = (g: GuardLive) => g.acquisitions > 0 || g.queue > 0;

export interface GuardRows {
  rows: GuardLive[];
  /** Host locks in use or waited for that are not shown. */
  hiddenHosts: number;
}

export function guardRows(guards: readonly GuardLive[]): GuardRows {
  const always = guards.filter((g) => g.kind === "forks" || g.kind === "cpu" || g.kind === "bucket" || g.kind === "global" || g.kind === "group");
  const used = guards.filter((g) => (g.kind === "io" || g.kind === "mem") && touched(g));
  const hosts = guards.filter((g) => g.kind === "host" && (g.inUse > 0 || g.queue > 0)).sort(busier);
  const rows = [...always, ...used].sort((a, b) => KIND_ORDER[a.kind]! - KIND_ORDER[b.kind]! || a.name.localeCompare(b.name));
  return { rows: [...rows, ...hosts.slice(0, HOST_ROWS)], hiddenHosts: Math.max(0, hosts.length - HOST_ROWS) };
}

/**
 * The guard holding up the most instances right now: the longest queue
 * (ties: the longer recent p95 wait); undefined when nothing waits.
 */
export function bottleneck(guards: readonly GuardLive[]): GuardLive | undefined {
  let best: GuardLive | undefined;
  for (const g of guards) {
    if (g.queue === 0) continue;
    if (!best || g.queue > best.queue || (g.queue === best.queue && g.waitP95 > best.waitP95)) best = g;
  }
  return best;
}

/** The guard instances waited for longest in total over the run; undefined when none made anything wait. */
export function waitedMost(guards: readonly GuardLive[]): GuardLive | undefined {
  let best: GuardLive | undefined;
  for (const g of guards) if (g.waitedMs > 0 && (!best || g.waitedMs > best.waitedMs)) best = g;
  return best;
}
