/**
 * What sysfs says about one whole disk: its queue, its hardware depth and
 * its driver. Only reads; classify.ts decides what the numbers mean.
 */
import fs from "node:fs";
import path from "node:path";
import { listDir, readInt, readText } from "./sysfs.ts";

export type Driver = "nvme" | "virtio" | "xen" | "scsi" | "ide" | "mmc" | "nbd" | "rbd" | "zram" | "unknown";

export interface DiskFacts {
  /** Kernel name: "nvme0n1", "sda", "vda". */
  name: string;
  /** "MAJ:MIN" from the `dev` file. */
  devno?: string;
  driver: Driver;
  /** Basename of device/driver ("virtio_blk", "sd"), when the link exists. */
  driverLink?: string;
  /** queue/nr_requests: the block layer's request pool per hardware queue, not the device's depth. */
  nrRequests?: number;
  rotational?: boolean;
  /** The active I/O scheduler (the bracketed one in queue/scheduler). */
  scheduler?: string;
  logicalBlockSize?: number;
  /** device/queue_depth: commands the device itself accepts (SATA NCQ: at most 32). */
  deviceQueueDepth?: number;
  /** Entries under mq/: hardware submission queues (NVMe: often one per CPU). */
  hwQueues?: number;
  vendor?: string;
  model?: string;
  serial?: string;
  /** Size in bytes (the `size` file counts 512-byte sectors whatever the block size). */
  sizeBytes?: number;
}

/** Kernel name prefixes, longest first so "xvda" is not read as a "vd" disk. */
const NAME_PREFIXES: [string, Driver][] = [
  ["nvme", "nvme"],
  ["mmcblk", "mmc"],
  ["zram", "zram"],
  ["xvd", "xen"],
  ["nbd", "nbd"],
  ["rbd", "rbd"],
  ["vd", "virtio"],
  ["sd", "scsi"],
  ["hd", "ide"],
];

const DRIVER_LINKS: Record<string, Driver> = {
  nvme: "nvme",
  virtio_blk: "virtio",
  "vbd": "xen",
  "xen-blkfront": "xen",
  sd: "scsi",
  mmcblk: "mmc",
};

function readLinkBase(link: string): string | undefined {
  try {
    return path.basename(fs.readlinkSync(link));
  } catch {
    return undefined;
  }
}

export function driverOf(name: string, driverLink?: string): Driver {
  const fromLink = driverLink ? DRIVER_LINKS[driverLink] : undefined;
  if (fromLink) return fromLink;
  for (const [prefix, driver] of NAME_PREFIXES) if (name.startsWith(prefix)) return driver;
  return "unknown";
}

/** "none [mq-deadline] kyber" → "mq-deadline"; a single-queue kernel may print just the name. */
function activeScheduler(text: string | undefined): string | undefined {
  if (!text) return undefined;
  return /\[([^\]]+)\]/.exec(text)?.[1] ?? (text.includes(" ") ? undefined : text);
}

/** Reads everything this probe uses from a whole-disk sysfs directory. */
export function readDiskFacts(dir: string): DiskFacts {
  const name = path.basename(dir);
  const at = (rel: string) => path.join(dir, rel);
  const driverLink = readLinkBase(at("device/driver"));
  const rotational = readInt(at("queue/rotational"));
  const mq = listDir(at("mq"));
  const sectors = readInt(at("size"));
  // NVMe keeps model/serial on the controller (device/), SCSI and virtio on device/ or the disk itself.
  const firstOf = (...rels: string[]) => rels.map((r) => readText(at(r))).find((v) => v !== undefined && v !== "");
  return {
    name,
    devno: readText(at("dev")),
    driver: driverOf(name, driverLink),
    driverLink,
    nrRequests: readInt(at("queue/nr_requests")),
    rotational: rotational === undefined ? undefined : rotational !== 0,
    scheduler: activeScheduler(readText(at("queue/scheduler"))),
    logicalBlockSize: readInt(at("queue/logical_block_size")),
    deviceQueueDepth: readInt(at("device/queue_depth")),
    hwQueues: mq.length > 0 ? mq.length : undefined,
    vendor: firstOf("device/vendor"),
    model: firstOf("device/model", "model"),
    serial: firstOf("device/serial", "serial", "device/wwid", "wwid"),
    sizeBytes: sectors === undefined ? undefined : sectors * 512,
  };
}
