/**
 * I/O depth sweep: `checksum` over ~1 GiB of files of mixed sizes (128 MiB
 * down to 16 KiB; FANOUT_BENCH_SCALE shrinks it) through the CLI at
 * `-p N --io-tokens N` for N in DEPTHS, and once with no flags (the probed
 * default), REPEATS times each. Reports the median run's throughput at
 * each depth (bytes / makespan from
 * run_end, and bytes / whole-process wall time), the knee (the smallest
 * depth within 5% of the best), the default's ratio to the best, and our
 * throughput at the knee against `sha256sum` (and `openssl dgst -sha256`,
 * when installed) run by `xargs -P <knee>`.
 *
 * The page cache is dropped before every run when the kernel allows it
 * (`cache_dropped`); otherwise every run reads a warm cache, and the sweep
 * measures the CPU side rather than the device.
 */
import { have, r, report, runFanout, scratchDir, SCALE, timeCommand } from "./lib.ts";
import { checksumPlan, dropCaches, type FileSpec, warmCache, writeDataSet } from "./file_data.ts";

const DEPTHS = [1, 2, 4, 8, 12, 24, 48];
const KNEE_FRACTION = 0.95;
/** Runs per depth; the median counts, so one noisy run (others share this machine) does not move the knee. */
const REPEATS = 3;
/** Files per sha256sum process: amortises fork/exec without starving -P of work. */
const XARGS_BATCH = 8;

const MiB = 1024 * 1024;
const CLASSES = [
  { prefix: "huge", count: 2, bytes: 128 * MiB },
  { prefix: "large", count: 16, bytes: 16 * MiB },
  { prefix: "medium", count: 128, bytes: 2 * MiB },
  { prefix: "small", count: 1024, bytes: 256 * 1024 },
  { prefix: "tiny", count: 512, bytes: 16 * 1024 },
];

/** Counts scale first; a class scaled below one file keeps one file of proportionally smaller size. */
function dataSet(): FileSpec[] {
  const files: FileSpec[] = [];
  for (const c of CLASSES) {
    const want = c.count * SCALE;
    const count = Math.max(1, Math.round(want));
    const bytes = want < 1 ? Math.max(4096, Math.round(c.bytes * want)) : c.bytes;
    for (let i = 0; i < count; i++) files.push({ name: `${c.prefix}-${String(i).padStart(4, "0")}.bin`, bytes });
  }
  return files;
}

interface Point {
  depth: number | "default";
  io_tokens: number;
  forks: number;
  makespan_s: number;
  wall_s: number;
  mib_per_s: number;
  mib_per_s_wall: number;
}

function main(): void {
  const dir = scratchDir("io-depth");
  const files = dataSet();
  const total = writeDataSet(dir, files);
  const plan = checksumPlan(dir, "*.bin");
  const cacheDropped = dropCaches();
  const prepare = () => (cacheDropped ? dropCaches() : undefined);
  if (!cacheDropped) warmCache(dir);

  const once = (depth: number | "default"): Point => {
    prepare();
    const args = depth === "default" ? [] : ["-p", String(depth), "--io-tokens", String(depth)];
    const run = runFanout(plan, args);
    const s = run.runEnd.summary! as { makespan_ms: number; ok: number; total: number; bytes?: number };
    if (s.ok !== s.total) throw new Error(`depth ${depth}: ${s.total - s.ok} instances did not succeed`);
    if (s.bytes !== total) throw new Error(`depth ${depth}: summary bytes ${s.bytes} != data set ${total}`);
    const start = run.events.find((e) => e.type === "run_start") as unknown as { tokens: { io: number }; parallelism: { effective: number } };
    return {
      depth,
      io_tokens: start.tokens.io,
      forks: start.parallelism.effective,
      makespan_s: r(s.makespan_ms / 1000),
      wall_s: r(run.wallS),
      mib_per_s: r(total / MiB / (s.makespan_ms / 1000), 1),
      mib_per_s_wall: r(total / MiB / run.wallS, 1),
    };
  };

  const measure = (depth: number | "default"): Point => {
    const runs = Array.from({ length: REPEATS }, () => once(depth)).sort((a, b) => a.mib_per_s - b.mib_per_s);
    return runs[Math.floor(REPEATS / 2)]!;
  };
  const points = DEPTHS.map(measure);
  const best = points.reduce((a, b) => (b.mib_per_s > a.mib_per_s ? b : a));
  const knee = points.find((p) => p.mib_per_s >= KNEE_FRACTION * best.mib_per_s)!;
  const byDefault = measure("default");

  const kneeDepth = knee.depth as number;
  /** Median wall seconds of `xargs -P <knee> -n XARGS_BATCH <tool>` over the data set. */
  const peer = (tool: string) => {
    const runs = Array.from({ length: REPEATS }, () => {
      prepare();
      return timeCommand(["sh", "-c", `cd "$0" && ls -- *.bin | xargs -P ${kneeDepth} -n ${XARGS_BATCH} ${tool} > /dev/null`, dir]);
    }).sort((a, b) => a - b);
    const wall = runs[Math.floor(REPEATS / 2)]!;
    const mibs = total / MiB / wall;
    return {
      argv: `xargs -P ${kneeDepth} -n ${XARGS_BATCH} ${tool}`,
      wall_s: r(wall),
      mib_per_s: r(mibs, 1),
      ours_at_knee_ratio_wall: r(knee.mib_per_s_wall / mibs),
      ours_at_knee_ratio_makespan: r(knee.mib_per_s / mibs),
    };
  };
  // coreutils sha256sum may be built without the CPU's SHA extensions; openssl uses them when present.
  const peers: Record<string, unknown> = { sha256sum_xargs: peer("sha256sum") };
  if (have("openssl")) peers.openssl_xargs = peer("openssl dgst -sha256");

  report("io_depth_sweep", {
    data_set: { files: files.length, mib: r(total / MiB, 1), sizes: CLASSES.map((c) => `${c.prefix}:${c.bytes}`) },
    repeats: REPEATS,
    cache_dropped: cacheDropped,
    cache_note: cacheDropped ? "page cache dropped before every run" : "could not drop the page cache: every run reads a warm cache",
    points,
    best: { depth: best.depth, mib_per_s: best.mib_per_s },
    knee: { depth: knee.depth, mib_per_s: knee.mib_per_s, rule: `smallest depth within ${KNEE_FRACTION * 100}% of the best` },
    default: { ...byDefault, ratio_to_best: r(byDefault.mib_per_s / best.mib_per_s) },
    ...peers,
  });
}

main();
