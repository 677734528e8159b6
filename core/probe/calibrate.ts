/**
 * `fanout probe --calibrate`: measure instead of guessing. Writes a temporary
 * file next to the target (so it lands on the same device), then sweeps
 * random positioned reads at depths 1, 2, 4 … 32 within a small time budget,
 * and reports the knee: the smallest depth within 10% of the best throughput.
 * The file is deleted on every path out, an abort (Ctrl-C) or a forced exit
 * included; the signal is checked before every write and every read.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { type Calibration, type CalibrationPoint, readCalibration, writeCalibration } from "./calibration_cache.ts";
import { type DeviceProbeOptions, keyFor } from "./device_probe.ts";
import { resolveBlockDevice } from "./block_device.ts";
import { type Clock, realClock } from "../runtime/clock.ts";

export interface CalibrateOptions extends DeviceProbeOptions {
  /** Total time for writing and sweeping, in ms (default 2500). */
  budgetMs?: number;
  depths?: number[];
  blockBytes?: number;
  /** Skip writing the cache (the result is still returned). */
  noCache?: boolean;
  signal?: AbortSignal;
  clock?: Clock;
}

export interface CalibrateResult extends Calibration {
  /** Where the result was cached, if it was. */
  cacheFile?: string;
}

export const DEFAULT_DEPTHS = [1, 2, 4, 8, 16, 32];
/** Leaves room for start-up and the write inside a 3 s wall-clock promise. */
export const DEFAULT_BUDGET_MS = 2500;
const MIB = 1024 * 1024;
/**
 * Below this budget the file is a few MiB and each depth gets a few dozen
 * ms: the drive's cache and the noise of a shared machine can decide the knee.
 */
export const REPRESENTATIVE_BUDGET_MS = 1000;

/** The warning a calibration with a short budget carries, or undefined. */
export function shortBudgetNote(budgetMs: number): string | undefined {
  if (budgetMs >= REPRESENTATIVE_BUDGET_MS) return undefined;
  return `budget ${budgetMs} ms is short (under ${REPRESENTATIVE_BUDGET_MS / 1000} s; the default is ${DEFAULT_BUDGET_MS / 1000} s): a small file and few reads per depth, so the knee may not be representative`;
}

/** Within this fraction of the best, more depth is not worth its latency. */
const KNEE_FRACTION = 0.9;

/** The smallest depth whose throughput is within 10% of the best. */
export function findKnee(points: CalibrationPoint[]): { knee: number; best: number } {
  if (points.length === 0) throw new Error("Internal error: findKnee needs at least one point");
  const best = points.reduce((a, b) => (b.mibPerSec > a.mibPerSec ? b : a));
  const knee = points.filter((p) => p.mibPerSec >= KNEE_FRACTION * best.mibPerSec).sort((a, b) => a.depth - b.depth)[0]!;
  return { knee: knee.depth, best: best.depth };
}

/** The file must outsize the drive's cache and the readahead; it scales with the budget so tiny budgets stay tiny. */
function fileSizeFor(budgetMs: number, block: number): number {
  const bytes = Math.min(128 * MIB, Math.max(4 * MIB, Math.round((budgetMs / DEFAULT_BUDGET_MS) * 128 * MIB)));
  return Math.floor(bytes / block) * block;
}

async function writeFile(file: string, bytes: number, signal: AbortSignal | undefined): Promise<void> {
  // Random content: compressing or deduplicating storage (zram, ZFS, cloud disks) would flatter zeros.
  const chunk = randomBytes(Math.min(bytes, MIB));
  const fh = await fs.promises.open(file, "wx", 0o600);
  try {
    for (let done = 0; done < bytes; done += chunk.length) {
      signal?.throwIfAborted();
      await fh.write(chunk, 0, Math.min(chunk.length, bytes - done), done);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** O_DIRECT bypasses the page cache but needs aligned buffers; some runtimes and filesystems (tmpfs) refuse it. */
async function openForReads(file: string, block: number): Promise<{ fh: fs.promises.FileHandle; direct: boolean }> {
  const O_DIRECT = fs.constants.O_DIRECT;
  if (O_DIRECT) {
    let fh: fs.promises.FileHandle | undefined;
    try {
      fh = await fs.promises.open(file, fs.constants.O_RDONLY | O_DIRECT);
      await fh.read(Buffer.allocUnsafeSlow(block), 0, block, 0);
      return { fh, direct: true };
    } catch {
      await fh?.close().catch(() => {});
    }
  }
  return { fh: await fs.promises.open(file, "r"), direct: false };
}

async function sweepDepth(fh: fs.promises.FileHandle, depth: number, ms: number, fileBytes: number, block: number, clock: Clock, signal: AbortSignal | undefined): Promise<CalibrationPoint> {
  const blocks = fileBytes / block;
  const start = clock.now();
  const deadline = start + ms;
  let bytes = 0;
  let reads = 0;
  const worker = async () => {
    const buf = Buffer.allocUnsafeSlow(block);
    while (clock.now() < deadline) {
      signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, 0, block, Math.floor(Math.random() * blocks) * block);
      bytes += bytesRead;
      reads++;
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
  const elapsed = Math.max(clock.now() - start, 0.001);
  return { depth, mibPerSec: Math.round((bytes / MIB / (elapsed / 1000)) * 10) / 10, reads, ms: Math.round(elapsed) };
}

export async function calibrate(target = ".", options: CalibrateOptions = {}): Promise<CalibrateResult> {
  const budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
  const depths = options.depths ?? DEFAULT_DEPTHS;
  const block = options.blockBytes ?? 64 * 1024;
  if (!(budgetMs > 0)) throw new RangeError(`calibrate: budgetMs must be > 0, got ${budgetMs}`);
  if (depths.length === 0 || depths.some((d) => !Number.isInteger(d) || d < 1)) throw new RangeError(`calibrate: depths must be whole numbers >= 1, got ${depths}`);
  const clock = options.clock ?? realClock;
  const dir = fs.statSync(target).isDirectory() ? target : path.dirname(target);
  const resolution = resolveBlockDevice(dir, options);
  const key = keyFor(resolution) ?? "unknown";
  const fileBytes = fileSizeFor(budgetMs, block);
  const file = path.join(dir, `.fanout-calibrate-${process.pid}-${randomBytes(4).toString("hex")}`);
  const started = clock.now();
  const points: CalibrationPoint[] = [];
  let direct = false;
  // A forced exit (a second Ctrl-C) skips the finally below; the exit hook still removes the file.
  const removeOnExit = () => {
    try {
      fs.rmSync(file, { force: true });
    } catch {
      // Exiting anyway: nothing more to be done.
    }
  };
  process.once("exit", removeOnExit);
  try {
    await writeFile(file, fileBytes, options.signal);
    const opened = await openForReads(file, block);
    direct = opened.direct;
    try {
      // Whatever the write took, every depth still gets a fair slice (at least 20 ms).
      const slice = Math.max(20, (budgetMs - (clock.now() - started)) / depths.length);
      for (const depth of depths) {
        options.signal?.throwIfAborted();
        points.push(await sweepDepth(opened.fh, depth, slice, fileBytes, block, clock, options.signal));
      }
    } finally {
      await opened.fh.close();
    }
  } finally {
    await fs.promises.rm(file, { force: true });
    process.off("exit", removeOnExit);
  }
  const { knee, best } = findKnee(points);
  const notes: string[] = [];
  const short = shortBudgetNote(budgetMs);
  if (short) notes.push(short);
  if (!direct) notes.push("O_DIRECT unavailable here: the just-written file may sit in the page cache, which flatters throughput");
  if (resolution.disks.length === 0) notes.push(`no block device resolved: ${resolution.problem ?? "unknown"}`);
  const result: CalibrateResult = {
    key,
    devno: resolution.disks[0]?.devno ?? resolution.devno,
    disk: resolution.disks.map((d) => d.name).join(",") || undefined,
    measuredAt: clock.wallTime().toISOString(),
    path: path.resolve(dir),
    fileBytes,
    blockBytes: block,
    direct,
    budgetMs,
    points,
    knee,
    bestDepth: best,
    notes,
  };
  // A buffered sweep must not replace a direct one: it measured memory, not the disk.
  const previous = readCalibration(key, options);
  if (!direct && previous?.direct) notes.push(`kept the cached O_DIRECT calibration from ${previous.measuredAt}`);
  else if (!options.noCache) result.cacheFile = writeCalibration(result, options);
  return result;
}
