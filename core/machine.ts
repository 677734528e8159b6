/**
 * What this run may use: cores, the CPU and I/O token pools, memory
 * admission. Sized from the machine (cgroup-aware cores, the storage device
 * under the plan's directory) unless a flag or the plan says otherwise, in
 * that order. Run and dry run share this, so both show the same numbers.
 */
import { type DepthAdvice, type DeviceClass, recommendDepth } from "./probe/classify.ts";
import { probeDevice } from "./probe/device_probe.ts";
import { availableCores } from "./probe/cores.ts";
import { memoryAvailable } from "./probe/memory.ts";
import type { Plan } from "./plan/plan.ts";

export type StorageType = "auto" | "nvme" | "ssd" | "hdd";

export interface PoolOverrides {
  cpuTokens?: number;
  ioTokens?: number;
  storageType?: StorageType;
  /** Bytes: start nothing while less than this is available. */
  memFree?: number;
}

export interface MachineFacts {
  cores: number;
  cpuTokens: number;
  /** The I/O pool: the recommended depth for random access. */
  ioTokens: number;
  /**
   * Tokens one sequential reader takes from the I/O pool, so that sequential
   * readers run at the (smaller) depth that suits them: random depth ÷
   * sequential depth. 1 when the user sized the pool: their number rules.
   */
  sequentialIoWeight: number;
  storageType: DeviceClass;
  ioReason: string;
  memFree?: number;
  /** Capacity of the declared-`mem` pool, when any task declares mem. */
  memBudget?: number;
}

export function machineFacts(plan: Plan, o: PoolOverrides = {}): MachineFacts {
  const cores = availableCores();
  const cpuTokens = o.cpuTokens ?? plan.resources.cpu_tokens ?? Math.max(1, cores - 1);
  const io = ioPool(plan, o);
  const memFree = o.memFree ?? plan.resources.mem_free;
  const declaresMem = plan.tasks.some((t) => t.resources.mem);
  const memBudget = declaresMem
    ? plan.resources.mem_budget ?? Math.max(1, memoryAvailable().bytes - (memFree ?? 0))
    : undefined;
  return { cores, cpuTokens, ...io, memFree, memBudget };
}

function ioPool(plan: Plan, o: PoolOverrides): Pick<MachineFacts, "ioTokens" | "sequentialIoWeight" | "storageType" | "ioReason"> {
  const storage = o.storageType ?? plan.resources.storage_type ?? "auto";
  let cls: DeviceClass;
  let why: string;
  let random: DepthAdvice;
  let sequential: DepthAdvice;
  if (storage === "auto") {
    // Probes the device and uses its cached calibration (`fanout probe --calibrate`) if any.
    const probe = probeDevice(plan.dir);
    cls = probe.class;
    why = probe.reason;
    ({ random, sequential } = probe.recommended);
  } else {
    cls = storage;
    why = `storage type ${storage} given`;
    random = recommendDepth(cls, "random");
    sequential = recommendDepth(cls, "sequential");
  }
  const given = o.ioTokens ?? plan.resources.io_tokens;
  if (given !== undefined) {
    return { ioTokens: given, sequentialIoWeight: 1, storageType: cls, ioReason: `io tokens ${given} given (${why})` };
  }
  return {
    ioTokens: random.depth,
    sequentialIoWeight: Math.max(1, Math.round(random.depth / sequential.depth)),
    storageType: cls,
    ioReason: `${why}; random depth ${random.depth} (${random.reason}), sequential ${sequential.depth}`,
  };
}
