/**
 * What every benchmark shares: sizes scaled by FANOUT_BENCH_SCALE, a scratch
 * directory, running the real program (`fanout run … --json`) and reading
 * its events back, timing peer tools, and printing the one JSON line.
 *
 * The program under test is the compiled binary dist/fanout when it is newer
 * than every source file (what ships), else `bun --no-install cli.ts` from
 * this tree; FANOUT_BIN names another binary, FANOUT_BIN=source forces the
 * source.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");

/** FANOUT_BENCH_SCALE=0.1 runs every benchmark at a tenth of its size. */
export const SCALE = (() => {
  const raw = process.env.FANOUT_BENCH_SCALE;
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!(n > 0)) throw new RangeError(`FANOUT_BENCH_SCALE: expected a number > 0, got ${JSON.stringify(raw)}`);
  return n;
})();

/** `n` scaled, never below `min`. */
export function scaled(n: number, min = 1): number {
  return Math.max(min, Math.round(n * SCALE));
}

/** A scratch directory, removed at exit. */
export function scratchDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fanout-bench-${name}-`));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * A plan of `total` instances of a plugin that does nothing (the least an
 * instance can cost), `parallelism` at once, written into `dir` with its
 * plugin and items file; returns the plan's path.
 */
export function writeNoopPlan(dir: string, name: string, total: number, parallelism: number): string {
  writeFile(dir, "noop.ts", `export const parallelizationHint = "fully_parallel";\nexport default function run() {}\n`);
  writeFile(dir, "items.txt", Array.from({ length: total }, (_, i) => `i${i}`).join("\n") + "\n");
  return writeFile(dir, "noop.yml", `version: 1
name: ${name}
parallelism: ${parallelism}
plugins: { noop: ./noop.ts }
tasks:
  - { name: noop, module: noop, items_from: { file: items.txt } }
`);
}

/** The newest modification time among the sources the binary is built from. */
export function newestSource(): number {
  let newest = statSync(join(ROOT, "cli.ts")).mtimeMs;
  for (const dir of ["core", "plugins"]) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/** The command line that runs fanout, and a word on which one it is. */
export function fanoutArgv(): { argv: string[]; runner: string } {
  const bin = process.env.FANOUT_BIN;
  const source = { argv: [process.execPath, "--no-install", join(ROOT, "cli.ts")], runner: "bun cli.ts" };
  if (bin === "source") return source;
  if (bin) return { argv: [resolve(bin)], runner: bin };
  const built = join(ROOT, "dist", "fanout");
  if (existsSync(built) && statSync(built).mtimeMs > newestSource()) return { argv: [built], runner: "dist/fanout" };
  return source;
}

/** Runs `argv`, output to /dev/null; wall seconds. Throws when it cannot start or exits non-zero. */
export function timeCommand(argv: string[], options: { cwd?: string; okCodes?: number[] } = {}): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: options.cwd, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  if (!(options.okCodes ?? [0]).includes(r.status ?? -1)) {
    throw new Error(`${argv.join(" ")}: exit ${r.status ?? r.signal}: ${String(r.stderr).trim().split("\n").slice(-3).join(" | ")}`);
  }
  return seconds;
}

/** Whether a program is on PATH. */
export function have(program: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" }).status === 0;
}

export interface CliEvent {
  type: string;
  t_ms: number;
  id?: string;
  host?: string;
  status?: string;
  duration_ms?: number;
  summary?: { makespan_ms: number; instances_per_s: number; peak_rss_bytes: number; ok: number; total: number };
}

export interface CliRun {
  /** Wall seconds of the whole process, start-up included. */
  wallS: number;
  events: CliEvent[];
  starts: CliEvent[];
  ends: CliEvent[];
  runEnd: CliEvent;
  /** From the first task_start to the last task_end, in ms: the makespan without start-up. */
  spanMs: number;
}

/** `fanout run <plan> --json -q [args]`, events parsed from stdout. */
export function runFanout(plan: string, args: string[] = []): CliRun {
  const { argv } = fanoutArgv();
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, [...argv.slice(1), "run", plan, "--json", "--quiet", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 1024 * 1024 * 1024,
    encoding: "utf8",
  });
  const wallS = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`fanout run ${plan}: exit ${r.status}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  const events = r.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as CliEvent);
  const starts = events.filter((e) => e.type === "task_start");
  const ends = events.filter((e) => e.type === "task_end");
  const runEnd = events.find((e) => e.type === "run_end");
  if (!runEnd) throw new Error(`fanout run ${plan}: no run_end event`);
  const first = Math.min(...starts.map((e) => e.t_ms));
  const last = Math.max(...ends.map((e) => e.t_ms));
  return { wallS, events, starts, ends, runEnd, spanMs: last - first };
}

/** Rounds to `digits` decimals, for readable JSON. */
export function r(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Peak resident set size of this process, in MB. */
export function peakRssMb(): number {
  return r(process.resourceUsage().maxRSS / 1024, 1);
}

/** The benchmark's one line of output. */
export function report(name: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench: name, scale: SCALE, runner: fanoutArgv().runner, ...fields }));
}
