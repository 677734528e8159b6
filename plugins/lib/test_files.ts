/**
 * Shared by the file modules' tests: generated files of the sizes that
 * matter to a chunked reader, a bare TaskContext to call a module's run
 * directly, and the system tools' digests to compare against.
 */
import { execFileSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
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
    secrets: {},
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

/** A FIFO, a listening unix socket and a device, none of which may be read as a file; `close` ends the socket's server. */
export async function specialFiles(dir: string): Promise<{ fifo: string; socket: string; device: string; close(): void }> {
  const fifo = join(dir, "a.fifo");
  execFileSync("mkfifo", [fifo]);
  const socket = join(dir, "a.sock");
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { fifo, socket, device: "/dev/zero", close: () => server.close() };
}

/**
 * Opens `fifo` for writing and closes it, which lets a reader blocked in
 * open() go on. A test calls it on its way out, so that a regression fails
 * the test instead of leaving a thread blocked forever. No reader: ENXIO, ignored.
 */
export function releaseFifoReaders(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // Nobody is waiting on it.
  }
}

/** `work`, or a rejection naming `what` once `ms` have passed: a hang fails the test. */
export async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still running after ${ms}ms`)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
