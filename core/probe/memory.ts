/**
 * Memory this process can still take: /proc/meminfo MemAvailable, bounded by
 * the cgroup's limit minus its usage (v2 memory.max/memory.current, v1
 * memory.limit_in_bytes/memory.usage_in_bytes). Usage counts page cache; its
 * inactive part is reclaimable before the cgroup would OOM, so it is counted
 * as available (what kubelet calls the working set).
 */
import path from "node:path";
import { nodeOs } from "../runtime/lazy_builtins.ts";
import { locateCgroup } from "./cgroup.ts";
import { type ProbeRoots, readInt, readText, under } from "./sysfs.ts";

export interface MemoryAvailable {
  bytes: number;
  /** Which bound set `bytes`. */
  source: "meminfo" | "cgroup v1" | "cgroup v2" | "os.freemem";
  reason: string;
  memAvailable?: number;
  cgroupLimit?: number;
  cgroupUsage?: number;
  /** Reclaimable page cache subtracted from the usage. */
  cgroupInactiveFile?: number;
}

/** v1 writes "unlimited" as a page-rounded 2^63−1; anything this large is no limit. */
const NO_LIMIT = 2 ** 60;

/** MemAvailable in bytes (the file says kB, meaning KiB). */
function memAvailable(roots: ProbeRoots): number | undefined {
  const text = readText(under(roots.procRoot, "/proc/meminfo"));
  const m = text ? /^MemAvailable:\s+(\d+)\s*kB/m.exec(text) : null;
  return m ? Number(m[1]) * 1024 : undefined;
}

function statField(file: string, key: string): number | undefined {
  const m = new RegExp(`^${key} (\\d+)$`, "m").exec(readText(file) ?? "");
  return m ? Number(m[1]) : undefined;
}

interface CgroupMemory {
  version: 1 | 2;
  limit: number;
  usage: number;
  inactiveFile: number;
  file: string;
}

/** The tightest limit along the cgroup chain, with the usage of the cgroup that sets it. */
function cgroupMemory(roots: ProbeRoots): CgroupMemory | undefined {
  const loc = locateCgroup("memory", roots);
  if (!loc) return undefined;
  const v2 = loc.version === 2;
  let best: CgroupMemory | undefined;
  for (const dir of loc.dirs) {
    const file = path.join(dir, v2 ? "memory.max" : "memory.limit_in_bytes");
    const limit = readInt(file);
    if (limit === undefined || limit >= NO_LIMIT) continue;
    const usage = readInt(path.join(dir, v2 ? "memory.current" : "memory.usage_in_bytes"));
    if (usage === undefined) continue;
    const inactiveFile = statField(path.join(dir, "memory.stat"), v2 ? "inactive_file" : "total_inactive_file") ?? 0;
    const free = limit - Math.max(0, usage - inactiveFile);
    if (!best || free < best.limit - Math.max(0, best.usage - best.inactiveFile)) {
      best = { version: loc.version, limit, usage, inactiveFile, file };
    }
  }
  return best;
}

export function memoryAvailable(roots: ProbeRoots = {}): MemoryAvailable {
  const avail = memAvailable(roots);
  const cg = cgroupMemory(roots);
  const facts = {
    memAvailable: avail,
    cgroupLimit: cg?.limit,
    cgroupUsage: cg?.usage,
    cgroupInactiveFile: cg?.inactiveFile,
  };
  const cgFree = cg ? Math.max(0, cg.limit - Math.max(0, cg.usage - cg.inactiveFile)) : undefined;
  if (cgFree !== undefined && (avail === undefined || cgFree < avail)) {
    return {
      bytes: cgFree,
      source: cg!.version === 2 ? "cgroup v2" : "cgroup v1",
      reason: `cgroup limit ${cg!.limit} minus usage ${cg!.usage} (less ${cg!.inactiveFile} reclaimable cache), from ${cg!.file}`,
      ...facts,
    };
  }
  if (avail !== undefined) {
    return { bytes: avail, source: "meminfo", reason: cg ? "MemAvailable is below the cgroup's headroom" : "MemAvailable; no cgroup memory limit", ...facts };
  }
  // No /proc (non-Linux): the runtime's free memory undercounts reclaimable cache but is all there is.
  return { bytes: nodeOs().freemem(), source: "os.freemem", reason: "no /proc/meminfo; os.freemem() (excludes reclaimable cache)", ...facts };
}
