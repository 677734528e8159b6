/**
 * Shared by tests: run a real plan in-process and get its event log, and
 * read facts (overlaps, windows) off that log.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type RunOptions, runPlan } from "./commands/run.ts";
import { PlanErrors } from "./errors.ts";
import { type LoadOptions, loadPlan } from "./plan/load.ts";
import type { FanoutEvent, RunEndEvent, TaskEndEvent, TaskStartEvent } from "./telemetry/events.ts";
import { MemorySink } from "./telemetry/ndjson.ts";
import { makeTempDir } from "./runtime/temp_dir.ts";

export function tempDir(prefix = "fanout-test-"): string {
  return makeTempDir(prefix);
}

/** Writes `files` (path → text, subdirectories made as needed) into a fresh directory; returns its path. */
export function writeFiles(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/**
 * Loads plan YAML (plus side files) that must be refused; returns its error
 * messages with the temporary path shortened to "plan.yml".
 */
export async function planErrors(yaml: string, files: Record<string, string> = {}, options: LoadOptions = {}): Promise<string[]> {
  const dir = writeFiles({ "plan.yml": yaml, ...files });
  const file = join(dir, "plan.yml");
  try {
    await loadPlan(file, options);
  } catch (e) {
    if (e instanceof PlanErrors) return e.errors.map((x) => x.message.replaceAll(file, "plan.yml").replaceAll(dir, "DIR"));
    throw e;
  }
  throw new Error("expected the plan to be rejected");
}

export interface RunLog {
  /** The directory the plan was written to (its working files end up here). */
  dir: string;
  exitCode: number;
  events: FanoutEvent[];
  starts: TaskStartEvent[];
  ends: TaskEndEvent[];
  end: RunEndEvent;
}

/** Runs plan YAML text (plus any side files) for real and returns its events. */
export async function runPlanText(yaml: string, options: Partial<RunOptions> = {}, files: Record<string, string> = {}): Promise<RunLog> {
  const dir = writeFiles({ "plan.yml": yaml, ...files });
  const plan = await loadPlan(join(dir, "plan.yml"), { vars: options.vars });
  const sink = new MemorySink();
  const exitCode = await runPlan(plan, { ...options, sinks: [sink, ...(options.sinks ?? [])] });
  const events = sink.events;
  return {
    dir,
    exitCode,
    events,
    starts: events.filter((e): e is TaskStartEvent => e.type === "task_start"),
    ends: events.filter((e): e is TaskEndEvent => e.type === "task_end"),
    end: events.find((e): e is RunEndEvent => e.type === "run_end")!,
  };
}

export interface Interval {
  id: string;
  start: number;
  end: number;
  start_event: TaskStartEvent;
}

/** [start, end] of every attempt that ran, from task_start to its task_end (or task_retry). */
export function intervals(events: FanoutEvent[]): Interval[] {
  const open = new Map<string, TaskStartEvent>();
  const out: Interval[] = [];
  for (const e of events) {
    if (e.type === "task_start") open.set(e.id, e);
    else if ((e.type === "task_end" || e.type === "task_retry") && open.has(e.id)) {
      const s = open.get(e.id)!;
      open.delete(e.id);
      out.push({ id: e.id, start: s.t_ms, end: e.t_ms, start_event: s });
    }
  }
  return out;
}

/** The most intervals that overlap at any instant (touching ends do not overlap). */
export function maxOverlap(list: readonly { start: number; end: number }[]): number {
  const points: [number, number][] = [];
  for (const i of list) points.push([i.start, 1], [i.end, -1]);
  // Ends before starts at equal times: a slot freed at t can be reused at t.
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of points) {
    now += d;
    if (now > max) max = now;
  }
  return max;
}

/** The most start times inside any window of `windowMs` (closed on both ends). */
export function maxStartsInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! > windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export interface ProcessResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end without blocking this process's event loop
 * (unlike spawnSync), so servers the test started keep answering it.
 */
export function runProcess(argv: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], timeout: options.timeoutMs ?? 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
