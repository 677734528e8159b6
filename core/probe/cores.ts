/**
 * The number of cores this process may use: the least of what the runtime
 * reports, the CPUs it may be scheduled on (Cpus_allowed_list, i.e. cpusets
 * and taskset) and the cgroup's CPU quota (v2 cpu.max, v1 cfs_quota/period).
 * A container given 2 CPUs on a 64-core host must not start 64 workers.
 */
import path from "node:path";
import { locateCgroup } from "./cgroup.ts";
import { type ProbeRoots, readInt, readText, under } from "./sysfs.ts";

export interface CoreOptions extends ProbeRoots {
  /** Stands in for navigator.hardwareConcurrency in tests. */
  osCores?: number;
}

export interface CoreDetails {
  cores: number;
  /** navigator.hardwareConcurrency: the runtime's count, affinity-aware under Bun and Deno alike. */
  os: number;
  /** CPUs listed in /proc/self/status Cpus_allowed_list. */
  allowed?: number;
  /** The cgroup quota in CPUs (fractional), when one is set. */
  quota?: number;
  quotaSource?: string;
  /** Which of the three set the answer, in words. */
  reason: string;
}

/** "0-3,8,10-11" → 7. */
export function countCpuList(list: string): number | undefined {
  let n = 0;
  for (const part of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return n > 0 ? n : undefined;
}

function allowedCpus(roots: ProbeRoots): number | undefined {
  const status = readText(under(roots.procRoot, "/proc/self/status"));
  const line = status?.split("\n").find((l) => l.startsWith("Cpus_allowed_list:"));
  return line ? countCpuList(line.slice(line.indexOf(":") + 1)) : undefined;
}

/** The tightest quota along the cgroup chain, in CPUs. */
function cgroupQuota(roots: ProbeRoots): { cpus: number; source: string } | undefined {
  const loc = locateCgroup("cpu", roots);
  if (!loc) return undefined;
  let best: { cpus: number; source: string } | undefined;
  for (const dir of loc.dirs) {
    let cpus: number | undefined;
    let file: string;
    if (loc.version === 2) {
      file = path.join(dir, "cpu.max");
      // "max 100000" is unlimited; "200000 100000" is 2 CPUs.
      const [quota, period] = (readText(file) ?? "").split(/\s+/);
      if (quota && quota !== "max" && Number(period) > 0) cpus = Number(quota) / Number(period);
    } else {
      file = path.join(dir, "cpu.cfs_quota_us");
      const quota = readInt(file);
      const period = readInt(path.join(dir, "cpu.cfs_period_us"));
      if (quota !== undefined && quota > 0 && period !== undefined && period > 0) cpus = quota / period;
    }
    if (cpus !== undefined && cpus > 0 && (!best || cpus < best.cpus)) best = { cpus, source: file };
  }
  return best;
}

/**
 * What the runtime counts. navigator.hardwareConcurrency gives what
 * os.availableParallelism() does under Bun and Deno (both honour the
 * affinity mask), without loading node:os (about 0.8 ms of a compiled
 * fanout's start-up).
 */
function runtimeCores(): number {
  return globalThis.navigator?.hardwareConcurrency ?? 1;
}

export function coreDetails(options: CoreOptions = {}): CoreDetails {
  const os = Math.max(1, options.osCores ?? runtimeCores());
  const allowed = allowedCpus(options);
  const quota = cgroupQuota(options);
  // A fractional quota rounds up: with 1.5 CPUs two workers use it all, one would leave half idle.
  const quotaCores = quota ? Math.max(1, Math.ceil(quota.cpus)) : undefined;
  const candidates: [number, string][] = [[os, "navigator.hardwareConcurrency"]];
  if (allowed !== undefined) candidates.push([allowed, "Cpus_allowed_list in /proc/self/status"]);
  if (quotaCores !== undefined) candidates.push([quotaCores, `cgroup quota ${round2(quota!.cpus)} CPUs (${quota!.source}), rounded up`]);
  const [cores, why] = candidates.reduce((a, b) => (b[0] < a[0] ? b : a));
  return {
    cores,
    os,
    allowed,
    quota: quota ? round2(quota.cpus) : undefined,
    quotaSource: quota?.source,
    reason: candidates.length === 1 ? `${why}; no cgroup quota or CPU list readable` : `${cores} from ${why}`,
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The number of cores this process may use. */
export function availableCores(options: CoreOptions = {}): number {
  return coreDetails(options).cores;
}
