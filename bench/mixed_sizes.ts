/**
 * Mixed sizes: one large file and a hundred small ones, `checksum` over all
 * of them through the CLI. The large file sorts first, so it is the first
 * to start; the small ones must not queue behind it. Per configuration:
 * the makespan, the large file's duration, and for the small files the P95
 * of latency (ready to done: wait_ms + duration_ms) and of service time
 * (duration_ms), when the first small one started and the last ended
 * against the large one's end, and how many small ones started only after
 * the large one had finished. Depth 1 shows what queueing behind it looks
 * like; at depth > 1 the small files have lanes of their own.
 */
import { percentiles } from "../core/stats.ts";
import { r, report, runFanout, scaled, scratchDir } from "./lib.ts";
import { checksumPlan, dropCaches, type FileSpec, warmCache, writeDataSet } from "./file_data.ts";

const MiB = 1024 * 1024;
const SMALL_FILES = 100;
const SMALL_BYTES = 64 * 1024;

interface TaskEvent {
  type: string;
  item?: unknown;
  t_ms: number;
  wait_ms?: number;
  duration_ms?: number;
  status?: string;
}

function main(): void {
  const dir = scratchDir("mixed-sizes");
  const large: FileSpec = { name: "0-large.bin", bytes: scaled(512, 16) * MiB };
  const small: FileSpec[] = Array.from({ length: SMALL_FILES }, (_, i) => ({ name: `small-${String(i).padStart(3, "0")}.bin`, bytes: SMALL_BYTES }));
  const total = writeDataSet(dir, [large, ...small]);
  const plan = checksumPlan(dir, "*.bin");
  const cacheDropped = dropCaches();
  if (!cacheDropped) warmCache(dir);

  const configs: [string, string[]][] = [["depth_1", ["-p", "1", "--io-tokens", "1"]], ["depth_4", ["-p", "4", "--io-tokens", "4"]], ["default", []]];
  const results: Record<string, unknown> = {};
  for (const [name, args] of configs) {
    if (cacheDropped) dropCaches();
    const run = runFanout(plan, args);
    const events = run.events as unknown as TaskEvent[];
    const isLarge = (e: TaskEvent) => String(e.item).endsWith(large.name);
    const starts = events.filter((e) => e.type === "task_start");
    const ends = events.filter((e) => e.type === "task_end");
    if (ends.some((e) => e.status !== "ok")) throw new Error(`${name}: not every instance succeeded`);
    const largeEnd = ends.find(isLarge)!;
    const waits = new Map(starts.map((e) => [String(e.item), { t: e.t_ms, wait: e.wait_ms ?? 0 }]));
    const smallEnds = ends.filter((e) => !isLarge(e));
    const smallStarts = starts.filter((e) => !isLarge(e)).map((e) => e.t_ms);
    const latency = smallEnds.map((e) => waits.get(String(e.item))!.wait + (e.duration_ms ?? 0));
    const service = smallEnds.map((e) => e.duration_ms ?? 0);
    const lat = percentiles(latency);
    const start = run.events.find((e) => e.type === "run_start") as unknown as { tokens: { io: number }; parallelism: { effective: number } };
    results[name] = {
      forks: start.parallelism.effective,
      io_tokens: start.tokens.io,
      makespan_ms: r(run.runEnd.summary!.makespan_ms, 1),
      large_duration_ms: r(largeEnd.duration_ms ?? NaN, 1),
      small_latency_ms: { p50: r(lat.p50, 2), p95: r(lat.p95, 2), max: r(lat.max, 2) },
      small_service_p95_ms: r(percentiles(service).p95, 2),
      large_end_ms: r(largeEnd.t_ms, 1),
      first_small_start_ms: r(Math.min(...smallStarts), 1),
      last_small_end_ms: r(Math.max(...smallEnds.map((e) => e.t_ms)), 1),
      small_started_after_large_ended: smallStarts.filter((t) => t >= largeEnd.t_ms).length,
    };
  }

  report("mixed_sizes", {
    data_set: { large_mib: large.bytes / MiB, small_files: SMALL_FILES, small_kib: SMALL_BYTES / 1024, total_mib: r(total / MiB, 1) },
    cache_dropped: cacheDropped,
    configs: results,
  });
}

main();
