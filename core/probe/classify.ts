/**
 * What kind of storage a path sits on, and how many reads to keep in flight
 * on it. Pure functions over the facts block_device.ts reads; docs/probe.md
 * gives the reasoning behind every number here.
 */
import type { BlockResolution } from "./block_device.ts";
import type { DiskFacts } from "./disk_facts.ts";

export type DeviceClass = "nvme" | "ssd" | "hdd" | "virtual" | "unknown";
export type IoPattern = "sequential" | "random";

export interface Classification {
  class: DeviceClass;
  reason: string;
  /** What was taken on faith because sysfs cannot know it (a hypervisor's backing store). */
  assumptions: string[];
}

/** Hypervisor and cloud disks that present as SCSI or NVMe: their flags describe the emulation. */
const VIRTUAL_MODEL = /qemu|vmware|virtual|vbox|google|persistentdisk|elastic block store|xen|msft|hyper-v|bochs/i;

export function classifyDisk(disk: DiskFacts): Classification {
  const label = [disk.vendor, disk.model].filter(Boolean).join(" ");
  if (disk.driver === "virtio" || disk.driver === "xen") {
    return {
      class: "virtual",
      reason: `${disk.name} is a ${disk.driver} disk: the hypervisor's backing store is unknown`,
      assumptions: [
        `ignored queue/rotational=${disk.rotational === undefined ? "?" : Number(disk.rotational)}: ` +
          "virtio disks report 1 even on SSD hosts and xen disks can report 0 on spinning ones",
        "a flash-backed host (most are); if the backing store spins, give storage_type: hdd or run fanout probe --calibrate",
      ],
    };
  }
  if (disk.driver === "nbd" || disk.driver === "rbd") {
    return { class: "virtual", reason: `${disk.name} is a network block device (${disk.driver}): latency is the network's`, assumptions: [] };
  }
  if (disk.driver === "zram") {
    return { class: "virtual", reason: `${disk.name} is compressed RAM (zram): no hardware queue, CPU-bound`, assumptions: [] };
  }
  if (label && VIRTUAL_MODEL.test(label)) {
    return {
      class: "virtual",
      reason: `${disk.name} is an emulated ${disk.driver} disk ("${label}")`,
      assumptions: ["ignored queue/rotational: an emulated disk reports what the hypervisor chose"],
    };
  }
  if (disk.driver === "nvme") return { class: "nvme", reason: `${disk.name} is an NVMe namespace`, assumptions: [] };
  if (disk.rotational === false) return { class: "ssd", reason: `${disk.name}: queue/rotational=0`, assumptions: [] };
  if (disk.rotational === true) return { class: "hdd", reason: `${disk.name}: queue/rotational=1`, assumptions: [] };
  return { class: "unknown", reason: `${disk.name}: no queue/rotational to read`, assumptions: [] };
}

/** With several members (RAID, LVM spans) the most cautious class leads: the slowest member sets the pace. */
const CAUTION: DeviceClass[] = ["hdd", "unknown", "virtual", "ssd", "nvme"];

export function classify(res: BlockResolution): Classification {
  if (res.disks.length === 0) {
    const fs = res.filesystem;
    const what = fs && fs.kind !== "block" ? `${fs.type} at ${fs.mountPoint} (${fs.kind})` : undefined;
    return { class: "unknown", reason: what ?? res.problem ?? "no block device found", assumptions: [] };
  }
  const each = res.disks.map(classifyDisk);
  const lead = [...each].sort((a, b) => CAUTION.indexOf(a.class) - CAUTION.indexOf(b.class))[0]!;
  if (each.length === 1) return lead;
  return {
    class: lead.class,
    reason: `${each.length} members (${res.disks.map((d) => d.name).join(", ")}); the most cautious: ${lead.reason}`,
    assumptions: [...new Set(each.flatMap((c) => c.assumptions))],
  };
}

/**
 * Starting points per class. Random reads gain from depth everywhere (NVMe
 * has many hardware queues, SATA SSDs 32 NCQ slots, a disk's elevator sorts
 * a few requests into fewer seeks). Sequential reads already stream: depth
 * adds little on flash and hurts on spinning disks, where parallel streams
 * turn into seeks between them.
 *
 * Virtual disks are the exception: hypervisors mostly back them with flash
 * and the host's page cache, and several guest files read at once are not
 * one stream at the device. Measured on a virtio disk (bench/io_depth_sweep:
 * checksum over 1 GiB of mixed files, page cache dropped), throughput rose
 * to 12 readers and was flat past it, 1.8× what 2 readers reached. So the
 * virtual class assumes flash-like backing and says so; a spinning backing
 * store wants `storage_type: hdd` or `fanout probe --calibrate`.
 */
export const BASE_DEPTH: Record<DeviceClass, Record<IoPattern, number>> = {
  nvme: { random: 24, sequential: 8 },
  ssd: { random: 12, sequential: 4 },
  hdd: { random: 4, sequential: 1 },
  virtual: { random: 12, sequential: 12 },
  unknown: { random: 8, sequential: 2 },
};

export interface DepthHints {
  /** device/queue_depth: flash gains nothing beyond what the device accepts. */
  deviceQueueDepth?: number;
  /** The knee from a calibration of this device (random 64 KiB reads). */
  calibratedKnee?: number;
}

export interface DepthAdvice {
  depth: number;
  reason: string;
}

export function recommendDepth(cls: DeviceClass, pattern: IoPattern, hints: DepthHints = {}): DepthAdvice {
  const base = BASE_DEPTH[cls][pattern];
  const knee = hints.calibratedKnee;
  if (knee !== undefined && knee >= 1) {
    if (pattern === "random") return { depth: knee, reason: `calibrated: throughput within 10% of the best from depth ${knee}` };
    if (knee < base) return { depth: knee, reason: `${cls} sequential ${base}, capped by the calibrated knee ${knee}` };
    return { depth: base, reason: `${WHY[cls][pattern]} (calibrated knee ${knee} is higher)` };
  }
  const why = WHY[cls][pattern];
  const qd = hints.deviceQueueDepth;
  if ((cls === "ssd" || cls === "nvme") && qd !== undefined && qd >= 1 && qd < base) {
    return { depth: qd, reason: `${why}; capped by device/queue_depth=${qd}` };
  }
  return { depth: base, reason: why };
}

const WHY: Record<DeviceClass, Record<IoPattern, string>> = {
  nvme: {
    random: "nvme random: many hardware queues; 24 in flight nears peak IOPS without flooding them",
    sequential: "nvme sequential: streams saturate bandwidth early; 8 keeps every queue busy",
  },
  ssd: {
    random: "ssd random: SATA NCQ has 32 slots; 12 captures most of the gain",
    sequential: "ssd sequential: a few streams already reach the link's bandwidth",
  },
  hdd: {
    random: "hdd random: a few requests let the elevator order seeks; more only add latency",
    sequential: "hdd sequential: one reader streams; parallel readers force seeks between them",
  },
  virtual: {
    random: "virtual: assumed flash-backed (most hypervisor disks are); 12 in flight, as measured on virtio",
    sequential: "virtual: readers of separate files are not one stream at a flash-backed host; 12, as measured on virtio (give storage_type: hdd if it spins)",
  },
  unknown: {
    random: "unknown storage: 8 is moderate for flash and disk alike",
    sequential: "unknown storage: few streams, in case it spins",
  },
};
