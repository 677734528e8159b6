/**
 * /proc/self/mountinfo: which filesystem holds a device number, and where the
 * cgroup hierarchies are mounted. Format (proc(5)):
 * `id parent MAJ:MIN root mountpoint options [optional…] - fstype source superoptions`.
 */
import { type ProbeRoots, readText, under } from "./sysfs.ts";

export interface MountEntry {
  major: number;
  minor: number;
  /** The directory of the filesystem that is mounted here (for cgroups: the hierarchy path). */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Paths in mountinfo escape space, tab, newline and backslash as octal (`\040`). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(" ");
    const dash = fields.indexOf("-");
    if (dash < 6 || fields.length < dash + 3) continue;
    const [maj, min] = fields[2]!.split(":").map(Number);
    if (!Number.isInteger(maj) || !Number.isInteger(min)) continue;
    entries.push({
      major: maj!,
      minor: min!,
      root: unescape(fields[3]!),
      mountPoint: unescape(fields[4]!),
      fsType: fields[dash + 1]!,
      source: unescape(fields[dash + 2]!),
      superOptions: (fields[dash + 3] ?? "").split(","),
    });
  }
  return entries;
}

/** The process's mount table, or [] where there is no /proc (non-Linux, locked-down containers). */
export function readMountInfo(roots: ProbeRoots = {}): MountEntry[] {
  const text = readText(under(roots.procRoot, "/proc/self/mountinfo"));
  return text === undefined ? [] : parseMountInfo(text);
}

/** How a filesystem stores its data, which decides whether a block device's queue matters. */
export type FsKind = "block" | "memory" | "overlay" | "network" | "other";

const MEMORY_FS = new Set(["tmpfs", "ramfs", "devtmpfs", "hugetlbfs"]);
const NETWORK_FS = new Set(["nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "virtiofs", "ceph", "glusterfs", "lustre", "afs", "gfs2", "ocfs2"]);
const OVERLAY_FS = new Set(["overlay", "overlayfs", "aufs", "unionfs"]);

export function fsKind(fsType: string, source = ""): FsKind {
  if (MEMORY_FS.has(fsType)) return "memory";
  if (OVERLAY_FS.has(fsType)) return "overlay";
  // FUSE filesystems are mostly remote (sshfs, s3fs, gcsfuse); a local one still goes through a daemon, not a queue.
  if (NETWORK_FS.has(fsType) || fsType === "fuse" || fsType.startsWith("fuse.")) return "network";
  if (source.startsWith("/dev/")) return "block";
  return "other";
}

/** The mount whose device number is MAJ:MIN (the last one wins, as later mounts hide earlier ones). */
export function mountForDevice(entries: MountEntry[], major: number, minor: number): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const e of entries) if (e.major === major && e.minor === minor) found = e;
  return found;
}
