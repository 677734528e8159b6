/**
 * Where this process's cgroup lives: /proc/self/cgroup names the cgroup per
 * hierarchy, /proc/self/mountinfo where each hierarchy is mounted. Limits can
 * be set on any ancestor, so callers get the chain from the process's cgroup
 * up to the mount's root and take the tightest limit along it.
 */
import path from "node:path";
import { readMountInfo } from "./mountinfo.ts";
import { exists, type ProbeRoots, readText, under } from "./sysfs.ts";

export interface CgroupLocation {
  version: 1 | 2;
  /** The process's cgroup directory first, then its ancestors up to the mount point (root-prefixed). */
  dirs: string[];
}

/** Parses /proc/self/cgroup: `hierarchy-id:controllers:path` per line; v2 is `0::path`. */
export function parseProcCgroup(text: string): { controllers: string[]; path: string }[] {
  return text.split("\n").filter(Boolean).map((line) => {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    return { controllers: line.slice(first + 1, second).split(",").filter(Boolean), path: line.slice(second + 1) };
  });
}

/**
 * The cgroup directories for `controller` ("cpu", "memory"), preferring a v1
 * hierarchy that has it, else the v2 unified one. Undefined when there is no
 * /proc or no such hierarchy mounted (non-Linux, some containers).
 */
export function locateCgroup(controller: string, roots: ProbeRoots = {}): CgroupLocation | undefined {
  const text = readText(under(roots.procRoot, "/proc/self/cgroup"));
  if (!text) return undefined;
  const lines = parseProcCgroup(text);
  const mounts = readMountInfo(roots);
  const v1 = lines.find((l) => l.controllers.includes(controller));
  if (v1) {
    const m = mounts.find((e) => e.fsType === "cgroup" && e.superOptions.includes(controller));
    if (m) return { version: 1, dirs: chain(m.mountPoint, m.root, v1.path, roots) };
  }
  const v2 = lines.find((l) => l.controllers.length === 0 && l.path.startsWith("/"));
  const m2 = mounts.find((e) => e.fsType === "cgroup2");
  if (v2 && m2) {
    const dirs = chain(m2.mountPoint, m2.root, v2.path, roots);
    // In a hybrid setup the v2 tree exists but may not have this controller enabled.
    const enabled = readText(path.join(dirs.at(-1)!, "cgroup.controllers"))?.split(" ") ?? [];
    if (enabled.includes(controller) || dirs.some((d) => exists(path.join(d, `${controller}.max`)))) return { version: 2, dirs };
  }
  return undefined;
}

/**
 * The cgroup path is relative to the hierarchy's root; the mount shows the
 * part of the hierarchy at `mountRoot`. Inside a cgroup namespace the path is
 * usually "/" and the mount point is the process's own cgroup.
 */
function chain(mountPoint: string, mountRoot: string, cgPath: string, roots: ProbeRoots): string[] {
  const top = under(roots.sysRoot, mountPoint);
  let rel = cgPath;
  if (mountRoot !== "/" && (cgPath === mountRoot || cgPath.startsWith(mountRoot + "/"))) rel = cgPath.slice(mountRoot.length);
  let dir = path.join(top, rel);
  if (!exists(dir)) dir = top;
  const dirs = [dir];
  while (dir !== top && dir.startsWith(top + "/")) {
    dir = path.dirname(dir);
    dirs.push(dir);
  }
  return dirs;
}
