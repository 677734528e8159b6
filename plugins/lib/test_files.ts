/**
 * Shared by the file modules' tests: generated files of the sizes that
 * matter to a chunked reader, a bare TaskContext to call a module's run
 * directly, and the system tools' digests to compare against.
 */
import { execFileSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPlan } from "../../core/commands/run.ts";
import type { TaskContext } from "../../core/mod.ts";
import { loadPlan } from "../../core/plan/load.ts";
import type { RunEndEvent, TaskEndEvent } from "../../core/telemetry/events.ts";
import { MemorySink } from "../../core/telemetry/ndjson.ts";
import { CHUNK_BYTES } from "./buffer_pool.ts";

/** Empty, one byte, exactly one buffer, one buffer + 1, and several MiB (not a multiple of the buffer). */
export const EDGE_SIZES: Record<string, number> = {
  "empty.csv": 0,
  "one.csv": 1,
  "chunk.csv": CHUNK_BYTES,
  "chunk_plus_one.csv": CHUNK_BYTES + 1,
  "several_mib.csv": 5 * 1024 * 1024 + 12345,
};

const made: string[] = [];

/** A fresh temporary directory, removed by removeScratchDirs (call it from afterAll). */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "fanout-files-test-"));
  made.push(dir);
  return dir;
}

export function removeScratchDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes random files of `sizes` (name → bytes) into `dir`; returns name → absolute path. */
export function writeRandomFiles(dir: string, sizes: Record<string, number>): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const paths: Record<string, string> = {};
  for (const [name, size] of Object.entries(sizes)) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name], randomFillSync(new Uint8Array(size)));
  }
  return paths;
}

/** `sha256sum file` (or another coreutils digest tool): the hex digest. */
export function toolDigest(tool: string, path: string): string {
  return execFileSync(tool, [path], { encoding: "utf8" }).split(" ")[0]!;
}

/** A context for calling a module's run outside a plan. */
export function bareContext(planDir: string, signal: AbortSignal = new AbortController().signal): TaskContext {
  const quiet = () => {};
  return {
    id: "test",
    task: "test",
    host: "localhost",
    item: null,
    vars: {},
    attempt: 1,
    planDir,
    signal,
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    exec() {
      throw new Error("Internal error: the file modules do not spawn");
    },
  };
}

/** Writes `yaml` to dir/plan.yml and runs it in-process; its exit code, task_end events and run_end. */
export async function runPlanIn(dir: string, yaml: string): Promise<{ code: number; ends: TaskEndEvent[]; end: RunEndEvent }> {
  writeFileSync(join(dir, "plan.yml"), yaml);
  const sink = new MemorySink();
  const code = await runPlan(await loadPlan(join(dir, "plan.yml")), { sinks: [sink] });
  return {
    code,
    ends: sink.events.filter((e): e is TaskEndEvent => e.type === "task_end"),
    end: sink.events.find((e): e is RunEndEvent => e.type === "run_end")!,
  };
}
