/**
 * What this run may use: cores, the CPU and I/O token pools, memory
 * admission. Sized from the machine (cgroup-aware cores, the storage device
 * under the data) unless a flag or the plan says otherwise, in that order.
 * Run and dry run share this, so both show the same numbers.
 */
import { type DepthAdvice, type DeviceClass, recommendDepth } from "./probe/classify.ts";
import { availableCores } from "./probe/cores.ts";
import { type DeviceProbe, probeDevice } from "./probe/device_probe.ts";
import { memoryAvailable } from "./probe/memory.ts";
import type { Plan, Task } from "./plan/plan.ts";

export type StorageType = "auto" | "nvme" | "ssd" | "hdd";

export interface PoolOverrides {
  cpuTokens?: number;
  ioTokens?: number;
  storageType?: StorageType;
  /** Bytes: start nothing while less than this is available. */
  memFree?: number;
}

/**
 * What a pool knows of its device: the class the probe found or the user
 * gave, or "not probed" when no task declares `io`, so nothing would use
 * what a look at /sys/block could tell (the look costs every run a few ms).
 */
export type PoolStorage = DeviceClass | "not probed";

/** One storage device's I/O pool. */
export interface IoPool {
  /** "io" for the plan directory's device, "io:MAJ:MIN" for another one. */
  name: string;
  /** The pool holds the recommended depth for random access. */
  tokens: number;
  /**
   * Tokens one sequential reader takes per declared token, so that sequential
   * readers run at the (smaller) depth that suits them: random depth ÷
   * sequential depth. 1 when the user sized the pool: their number rules.
   */
  sequentialIoWeight: number;
  storageType: PoolStorage;
  reason: string;
}

export interface MachineFacts {
  cores: number;
  cpuTokens: number;
  /** Where cpuTokens came from, in words (run_start.parallelism.cpu_reason). */
  cpuReason: string;
  /** The plan directory's pool; tasks whose files live elsewhere may have their own. */
  io: IoPool;
  /** Every pool, `io` first. */
  ioPools: IoPool[];
  /** The pool a task's I/O tokens come from. */
  ioPoolOf(task: Task): IoPool;
  memFree?: number;
  /** Capacity of the declared-`mem` pool, when any task declares mem. */
  memBudget?: number;
}

export function machineFacts(plan: Plan, o: PoolOverrides = {}): MachineFacts {
  const cores = availableCores();
  // fanout's own process sleeps while its children work: every core it may use goes to them, as make -jN does.
  const cpuTokens = o.cpuTokens ?? plan.resources.cpu_tokens ?? cores;
  const cpuReason = o.cpuTokens !== undefined
    ? "--cpu-tokens"
    : plan.resources.cpu_tokens !== undefined
    ? "resources.cpu_tokens"
    : `the ${cores} core${cores === 1 ? "" : "s"} fanout may use (cgroup and affinity aware); its own process sleeps while children run`;
  const memFree = o.memFree ?? plan.resources.mem_free;
  const declaresMem = plan.tasks.some((t) => t.resources.mem);
  const memBudget = declaresMem
    ? plan.resources.mem_budget ?? Math.max(1, memoryAvailable().bytes - (memFree ?? 0))
    : undefined;
  const { main, byTask } = ioPools(plan, o);
  const pools = [main, ...new Set(byTask.values())];
  return { cores, cpuTokens, cpuReason, io: main, ioPools: pools, ioPoolOf: (task) => byTask.get(task) ?? main, memFree, memBudget };
}

/** One pool per storage device that I/O-using tasks read from. */
function ioPools(plan: Plan, o: PoolOverrides): { main: IoPool; byTask: Map<Task, IoPool> } {
  const given = o.ioTokens ?? plan.resources.io_tokens;
  const storage = o.storageType ?? plan.resources.storage_type ?? "auto";
  if (storage === "auto" && !plan.tasks.some((t) => t.resources.io)) return { main: unprobedPool(given), byTask: new Map() };
  const mainProbe = storage === "auto" ? probeDevice(plan.dir) : undefined;
  const main = poolFor(plan.dir, "io", storage, given, mainProbe);
  const byTask = new Map<Task, IoPool>();
  // A given size or storage type speaks for every device: one pool then.
  if (given !== undefined || !mainProbe) return { main, byTask };
  const mainDevice = mainProbe.calibrationKey;
  const byDevice = new Map<string, IoPool>();
  for (const task of plan.tasks) {
    if (!task.resources.io || !task.dataDir) continue;
    const probe = probeDevice(task.dataDir);
    const device = probe.calibrationKey;
    if (!device || device === mainDevice) continue;
    let pool = byDevice.get(device);
    if (!pool) byDevice.set(device, (pool = poolFor(task.dataDir, `io:${device}`, "auto", undefined, probe)));
    byTask.set(task, pool);
  }
  return { main, byTask };
}

/** The plan directory's pool when no task declares io: unused, so unsized (capacity 1 unless given). */
function unprobedPool(given: number | undefined): IoPool {
  const why = "not probed: no task declares resources: { io }";
  if (given !== undefined) return { name: "io", tokens: given, sequentialIoWeight: 1, storageType: "not probed", reason: `io tokens ${given} given (${why})` };
  return { name: "io", tokens: 1, sequentialIoWeight: 1, storageType: "not probed", reason: `${why}, so no I/O pool is in use` };
}

/** A pool sized from a probe (or from a given size or storage type). */
export function poolFor(path: string, name: string, storage: StorageType, given: number | undefined, probe?: DeviceProbe): IoPool {
  let cls: DeviceClass;
  let why: string;
  let random: DepthAdvice;
  let sequential: DepthAdvice;
  if (storage === "auto") {
    // Probes the device and uses its cached calibration (`fanout probe --calibrate`) if any.
    const p = probe ?? probeDevice(path);
    cls = p.class;
    why = p.reason;
    ({ random, sequential } = p.recommended);
  } else {
    cls = storage;
    why = `storage type ${storage} given`;
    random = recommendDepth(cls, "random");
    sequential = recommendDepth(cls, "sequential");
  }
  if (given !== undefined) {
    return { name, tokens: given, sequentialIoWeight: 1, storageType: cls, reason: `io tokens ${given} given (${why})` };
  }
  return {
    name,
    tokens: random.depth,
    sequentialIoWeight: Math.max(1, Math.round(random.depth / sequential.depth)),
    storageType: cls,
    reason: `${why}; random depth ${random.depth} (${random.reason}), sequential ${sequential.depth}`,
  };
}
