/**
 * From a path to the whole disks that hold it: stat → MAJ:MIN →
 * /sys/dev/block/MAJ:MIN, then partitions to their parent, device-mapper and
 * md to their members (slaves/), loop to its backing file's device. Device
 * number 0:N is not a block device (tmpfs, overlay, NFS, FUSE, btrfs
 * subvolumes): mountinfo says what it is. Never throws; `problem` says why
 * nothing was found.
 */
import path from "node:path";
import { type DevNo, formatDev, realStatDev, splitDev, type StatDev } from "./device_number.ts";
import { type DiskFacts, readDiskFacts } from "./disk_facts.ts";
import { type FsKind, fsKind, type MountEntry, mountForDevice, readMountInfo } from "./mountinfo.ts";
import { exists, listDir, type ProbeRoots, readText, realPath, under } from "./sysfs.ts";

export interface BlockOptions extends ProbeRoots {
  statDev?: StatDev;
}

export interface FilesystemFacts {
  type: string;
  source: string;
  mountPoint: string;
  kind: FsKind;
}

export interface BlockResolution {
  path: string;
  devno?: string;
  filesystem?: FilesystemFacts;
  /** Each step taken, in words: "vda1 is a partition of vda". */
  chain: string[];
  /** The whole disks underneath; several for RAID or LVM over many members. */
  disks: DiskFacts[];
  /** Why `disks` is empty, or partly so. */
  problem?: string;
}

/** Loops of loops of dm of md: deep enough for real stacks, shallow enough to stop a cycle. */
const MAX_DEPTH = 8;

interface Walk {
  opts: BlockOptions;
  statDev: StatDev;
  mounts: MountEntry[];
  chain: string[];
  disks: DiskFacts[];
  problems: string[];
}

function fsFacts(m: MountEntry): FilesystemFacts {
  return { type: m.fsType, source: m.source, mountPoint: m.mountPoint, kind: fsKind(m.fsType, m.source) };
}

export function resolveBlockDevice(target: string, opts: BlockOptions = {}): BlockResolution {
  const statDev = opts.statDev ?? realStatDev;
  let dev: DevNo;
  try {
    dev = splitDev(statDev(target, "dev"));
  } catch (error) {
    return { path: target, chain: [], disks: [], problem: `cannot stat ${target}: ${(error as Error).message}` };
  }
  const walk: Walk = { opts, statDev, mounts: readMountInfo(opts), chain: [], disks: [], problems: [] };
  const mount = mountForDevice(walk.mounts, dev.major, dev.minor);
  walkDevno(dev, walk, 0);
  return {
    path: target,
    devno: formatDev(dev),
    filesystem: mount ? fsFacts(mount) : undefined,
    chain: walk.chain,
    disks: walk.disks,
    problem: walk.problems.length > 0 ? walk.problems.join("; ") : undefined,
  };
}

function walkDevno(dev: DevNo, walk: Walk, depth: number): void {
  const id = formatDev(dev);
  if (depth > MAX_DEPTH) return void walk.problems.push(`stopped at ${id}: device stack deeper than ${MAX_DEPTH}`);
  if (dev.major === 0) return walkAnonymous(dev, walk, depth);
  const dir = realPath(under(walk.opts.sysRoot, `/sys/dev/block/${id}`));
  if (!dir) return void walk.problems.push(`no /sys/dev/block/${id} (no sysfs here: container, non-Linux, or a device sysfs does not list)`);
  walkDir(dir, walk, depth);
}

/** Major 0: no block device of its own. btrfs names its real device in mountinfo; the rest are reported as what they are. */
function walkAnonymous(dev: DevNo, walk: Walk, depth: number): void {
  const mount = mountForDevice(walk.mounts, dev.major, dev.minor);
  if (!mount) return void walk.problems.push(`${formatDev(dev)} is not a block device and /proc/self/mountinfo does not list it`);
  const kind = fsKind(mount.fsType, mount.source);
  if (kind === "block") {
    try {
      const real = splitDev(walk.statDev(mount.source, "rdev"));
      walk.chain.push(`${mount.fsType} on ${mount.source} (${formatDev(real)})`);
      return walkDevno(real, walk, depth + 1);
    } catch {
      return void walk.problems.push(`${mount.fsType} on ${mount.source}: cannot stat the device node`);
    }
  }
  walk.problems.push(`${mount.mountPoint} is ${mount.fsType} (${kind === "other" ? "not block-backed" : kind}): no disk queue to read`);
}

function walkDir(dir: string, walk: Walk, depth: number): void {
  const name = path.basename(dir);
  if (exists(path.join(dir, "partition"))) {
    const parent = path.dirname(dir);
    walk.chain.push(`${name} is a partition of ${path.basename(parent)}`);
    return walkDir(parent, walk, depth + 1);
  }
  const members = listDir(path.join(dir, "slaves"));
  if (members.length > 0) {
    walk.chain.push(`${name} is built on ${members.join(", ")}`);
    for (const m of members) {
      const memberDir = realPath(path.join(dir, "slaves", m));
      if (memberDir) walkDir(memberDir, walk, depth + 1);
      else walk.problems.push(`${name}: member ${m} not readable`);
    }
    return;
  }
  if (name.startsWith("loop")) return walkLoop(dir, name, walk, depth);
  if (name.startsWith("dm-") || name.startsWith("md")) {
    return void walk.problems.push(`${name} lists no members under slaves/`);
  }
  walk.disks.push(readDiskFacts(dir));
}

/** A loop device's own queue says nothing; the file behind it is what is read. */
function walkLoop(dir: string, name: string, walk: Walk, depth: number): void {
  const backing = readText(path.join(dir, "loop/backing_file"));
  if (!backing) return void walk.problems.push(`${name}: no loop/backing_file (unattached, or sysfs hides it)`);
  try {
    const dev = splitDev(walk.statDev(backing.replace(/ \(deleted\)$/, ""), "dev"));
    walk.chain.push(`${name} is backed by ${backing} on ${formatDev(dev)}`);
    walkDevno(dev, walk, depth + 1);
  } catch {
    walk.problems.push(`${name}: cannot stat its backing file ${backing}`);
  }
}
