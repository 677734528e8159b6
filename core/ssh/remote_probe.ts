/**
 * `fanout probe` for an ssh host: its cores, its memory and the disk under a
 * path there, concluded by the same code and rules as the local probe.
 *
 * One remote command prints every /proc and /sys file the probe may read
 * (and the few stat results and links it needs); those are written into a
 * private temporary tree that stands for the host's / and the probe reads it
 * through its root prefix, as it reads the fixtures in its tests. So the
 * rules live once, in core/probe/, and a host costs one ssh session.
 *
 * Known gaps: a btrfs filesystem's device node is not stat'ed remotely (the
 * probe then names that as its problem), and a calibration cached on this
 * machine is never applied to a remote device.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type CoreDetails, coreDetails } from "../probe/cores.ts";
import { type DeviceProbe, probeDevice } from "../probe/device_probe.ts";
import { type MemoryAvailable, memoryAvailable } from "../probe/memory.ts";
import { makeTempDir } from "../runtime/temp_dir.ts";
import { TaskFailure } from "../sdk.ts";
import { remoteScript } from "./files.ts";
import type { SshTarget } from "./target.ts";

/** What the probe concluded about a host: the shape of the local `fanout probe` report. */
export interface RemoteProbeReport {
  /** The probed path on the host, symlinks resolved. */
  path: string;
  device: DeviceProbe;
  cores: CoreDetails;
  memory: MemoryAvailable;
}

// $1: the path whose disk is probed (default: the login directory).
// Records: "@@F path" + its text; "@@D dir"; "@@L link target" (as read);
// "@@S link target" (resolved, to follow in the tree); "@@stat dev path".
const SNAPSHOT = String.raw`p=$1
f() { [ -f "$1" ] && [ -r "$1" ] && { printf '@@F %s\n' "$1"; cat "$1" 2>/dev/null; echo; }; }
printf '@@nproc %s\n' "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
[ -e "$p" ] && real=$(readlink -f -- "$p") || exit 0 # no @@path: the path is not there
printf '@@path %s\n' "$real"
printf '@@stat %s %s\n' "$(stat -c %d -- "$real")" "$real"
for n in /proc/self/status /proc/self/cgroup /proc/self/mountinfo /proc/meminfo; do f "$n"; done
for m in $(awk '$3=="cgroup"||$3=="cgroup2"{print $2}' /proc/self/mounts 2>/dev/null); do
  for c in $(cut -d: -f3 /proc/self/cgroup 2>/dev/null) /; do
    d=$m$c
    while :; do
      for n in cgroup.controllers cpu.max cpu.cfs_quota_us cpu.cfs_period_us memory.max memory.current memory.stat memory.limit_in_bytes memory.usage_in_bytes; do f "$d/$n"; done
      case $d in "$m" | "$m/" | / | .) break ;; esac
      d=$(dirname "$d")
    done
  done
done
for b in /sys/class/block/*; do
  r=$(readlink -f "$b") && [ -d "$r" ] || continue
  printf '@@D %s\n' "$r"
  for n in dev size partition loop/backing_file queue/rotational queue/nr_requests queue/scheduler queue/logical_block_size device/queue_depth device/vendor device/model device/serial device/wwid model serial wwid; do f "$r/$n"; done
  [ -L "$r/device/driver" ] && printf '@@L %s %s\n' "$r/device/driver" "$(readlink "$r/device/driver")"
  for s in "$r"/slaves/*; do [ -e "$s" ] && printf '@@S %s %s\n' "$s" "$(readlink -f "$s")"; done
  for q in "$r"/mq/*; do [ -d "$q" ] && printf '@@D %s\n' "$q"; done
  [ -f "$r/dev" ] && printf '@@S /sys/dev/block/%s %s\n' "$(cat "$r/dev")" "$r"
  if [ -f "$r/loop/backing_file" ]; then
    bf=$(sed 's/ (deleted)$//' "$r/loop/backing_file")
    printf '@@stat %s %s\n' "$(stat -c %d -- "$bf" 2>/dev/null)" "$bf"
  fi
done`;

/** What the snapshot holds, parsed. */
export interface Snapshot {
  nproc?: number;
  path?: string;
  files: Map<string, string>;
  dirs: Set<string>;
  /** Links to write as they were read (their target's name is what counts). */
  links: Map<string, string>;
  /** Links to follow: to the tree's own copy of an absolute path. */
  follow: Map<string, string>;
  /** `stat -c %d`: the device holding each path. */
  dev: Map<string, bigint>;
}

export function parseSnapshot(text: string): Snapshot {
  const s: Snapshot = { files: new Map(), dirs: new Set(), links: new Map(), follow: new Map(), dev: new Map() };
  let file: string | undefined;
  let body: string[] = [];
  const flush = () => {
    if (file !== undefined) s.files.set(file, body.join("\n"));
    file = undefined;
    body = [];
  };
  for (const line of text.split("\n")) {
    if (!line.startsWith("@@")) {
      if (file !== undefined) body.push(line);
      continue;
    }
    flush();
    const space = line.indexOf(" ");
    const kind = line.slice(2, space);
    const rest = line.slice(space + 1);
    const pair = () => [rest.slice(0, rest.indexOf(" ")), rest.slice(rest.indexOf(" ") + 1)] as const;
    if (kind === "F") file = rest;
    else if (kind === "D") s.dirs.add(rest);
    else if (kind === "nproc") s.nproc = /^\d+$/.test(rest) ? Number(rest) : undefined;
    else if (kind === "path") s.path = rest;
    else if (kind === "L" || kind === "S") {
      const [from, to] = pair();
      (kind === "L" ? s.links : s.follow).set(from, to);
    } else if (kind === "stat") {
      const [dev, p] = pair();
      if (/^\d+$/.test(dev)) s.dev.set(p, BigInt(dev));
    }
  }
  flush();
  return s;
}

/** Writes the snapshot as a tree under `root`, where the probe reads it. */
function writeTree(s: Snapshot, root: string): void {
  const at = (p: string) => path.join(root, p);
  const parent = (p: string) => mkdirSync(path.dirname(at(p)), { recursive: true });
  for (const dir of s.dirs) mkdirSync(at(dir), { recursive: true });
  for (const [p, text] of s.files) {
    try {
      parent(p);
      writeFileSync(at(p), text);
    } catch {
      // A name sysfs has both as file and directory in some odd driver: skipped, read as missing.
    }
  }
  for (const [p, target] of s.links) tryLink(at(p), target, parent, p);
  for (const [p, target] of s.follow) tryLink(at(p), at(target), parent, p);
}

function tryLink(link: string, target: string, parent: (p: string) => void, p: string): void {
  try {
    parent(p);
    symlinkSync(target, link);
  } catch {
    // Already there (a device listed twice): the first one stands.
  }
}

/** Concludes the probe from a snapshot: the local probe's code, pointed at the snapshot's tree. */
export function probeSnapshot(s: Snapshot, where: string): RemoteProbeReport {
  const root = makeTempDir("fanout-remote-probe-");
  try {
    writeTree(s, root);
    const roots = { sysRoot: root, procRoot: root };
    const statDev = (p: string, field: "dev" | "rdev") => {
      const dev = field === "dev" ? s.dev.get(p) : undefined;
      if (dev === undefined) throw new Error(`${p} was not stat'ed on the host`);
      return dev;
    };
    // The cache is this machine's: an empty one, so a local calibration never applies to a remote disk.
    const device = probeDevice(where, { ...roots, statDev, env: { XDG_CACHE_HOME: root } });
    const cores = coreDetails({ ...roots, osCores: s.nproc ?? 1 });
    // The host's count came from its nproc, not from this runtime.
    cores.reason = cores.reason.replace("navigator.hardwareConcurrency", "nproc");
    return { path: where, device, cores, memory: memoryAvailable(roots) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Probes the host over ssh: one session. `where` defaults to the login directory. */
export async function probeHost(target: SshTarget, where = ".", signal: AbortSignal = new AbortController().signal): Promise<RemoteProbeReport> {
  const text = await remoteScript(target, "probe", SNAPSHOT, [where], signal);
  const snapshot = parseSnapshot(text);
  if (!snapshot.path) throw new TaskFailure(`probe of ${target.name}: ${where} does not exist there`);
  return probeSnapshot(snapshot, snapshot.path);
}

/**
 * Each host probed once per run: the first caller starts the probe, later
 * ones share its answer (or its failure).
 */
export class RemoteProbes {
  private readonly probes = new Map<string, Promise<RemoteProbeReport>>();

  constructor(private readonly probe: typeof probeHost = probeHost) {}

  of(target: SshTarget, signal?: AbortSignal): Promise<RemoteProbeReport> {
    let p = this.probes.get(target.name);
    if (!p) this.probes.set(target.name, (p = this.probe(target, ".", signal)));
    return p;
  }
}
