/**
 * One child through Bun.spawn, in its own process group, with its output
 * collected. Bun only; spawn.ts chooses between this and node:child_process.
 */
import { openSync } from "node:fs";
import process from "node:process";
import type { ExecResult } from "./exec_types.ts";
import { drain, OutputBuffer } from "./output_buffer.ts";
import type { OutputObserver } from "./output_observer.ts";

/** What a spawn needs. */
export interface SpawnRequest {
  argv: string[];
  cwd?: string;
  /** The child's whole environment. */
  env: Record<string, string | undefined>;
  input?: string;
  output: "capture" | "discard";
  maxOutputBytes: number;
  /** Told each chunk as it is read (captured output only). */
  observer?: OutputObserver;
  /** Descriptors the child gets as its fds 3, 4, … */
  fds?: readonly number[];
}

/** A started child. */
export interface BunChild {
  pid: number;
  /** Settles when the child itself has exited; never rejects. */
  exited: Promise<unknown>;
  /**
   * The result, once the output has been read to its end (which waits for
   * anything else holding the pipes); at once when the output is discarded.
   */
  result(lingered: boolean): ExecResult | Promise<ExecResult>;
}

type Proc = ReturnType<typeof Bun.spawn>;

/**
 * Bun frees a finished child's native state only when the garbage collector
 * finalizes its Subprocess object, and the collector runs when JavaScript
 * allocates. A run that captures no output allocates little per child, so
 * thousands of finished children's native memory piled up between
 * collections (peak RSS of 20,000 `true` with -q: 83 MB, against 67 MB
 * with output captured). A collection every so many spawns keeps the pile
 * small; its cost is a few microseconds per spawn (one collection of
 * fanout's small heap takes a few milliseconds).
 */
const SPAWNS_PER_COLLECTION = 1000;
let spawnsSinceCollection = 0;

function collectFinishedChildren(): void {
  if (++spawnsSinceCollection < SPAWNS_PER_COLLECTION) return;
  spawnsSinceCollection = 0;
  // A full, synchronous collection: an asynchronous one (Bun.gc(false)) was measured not to free them.
  Bun.gc(true);
}

/**
 * One descriptor of /dev/null, opened once, for every child's ignored
 * stdin and discarded output. Bun.spawn's "ignore" opens /dev/null in the
 * child, once per stream, between the fork and the exec, while fanout's
 * thread waits for the exec: a descriptor to dup2 costs the child less.
 */
let nullFd: number | undefined;

function devNull(): number | "ignore" {
  if (nullFd === undefined) {
    try {
      nullFd = openSync("/dev/null", "r+");
    } catch {
      nullFd = -1;
    }
  }
  return nullFd >= 0 ? nullFd : "ignore";
}

/** Whether `dir` is this process's working directory (false when that has been removed). */
function isCwd(dir: string): boolean {
  try {
    return dir === process.cwd();
  } catch {
    return false;
  }
}

/** Starts the child (throws if it cannot be started). */
export function spawnWithBun(req: SpawnRequest): BunChild {
  const discard = req.output === "discard";
  const stdin = req.input !== undefined ? new TextEncoder().encode(req.input) : devNull();
  const output = discard ? devNull() : "pipe";
  const proc = Bun.spawn({
    cmd: req.argv,
    // Already there: no chdir in the child (the same wait as above).
    cwd: req.cwd === undefined || isCwd(req.cwd) ? undefined : req.cwd,
    env: req.env,
    // With descriptors to pass, the whole stdio list; the three alone otherwise.
    ...(req.fds?.length ? { stdio: [stdin, output, output, ...req.fds] } : { stdin, stdout: output, stderr: output }),
    detached: true,
  });
  const pid = proc.pid;
  collectFinishedChildren();
  // Discarded output: no pipes, nothing to read, no buffers.
  if (discard) return { pid, exited: proc.exited, result: (lingered) => resultOf(proc, pid, lingered, undefined, undefined) };
  // Read from the start, so that a child writing more than a pipe holds is never blocked.
  const out = new OutputBuffer(req.maxOutputBytes);
  const err = new OutputBuffer(req.maxOutputBytes);
  const observer = req.observer;
  let reading = Promise.all([
    drain(proc.stdout as ReadableStream<Uint8Array>, out, observer && ((c) => observer.chunk("stdout", c))),
    drain(proc.stderr as ReadableStream<Uint8Array>, err, observer && ((c) => observer.chunk("stderr", c))),
  ]).then(() => undefined, (error: unknown) => ({ error }));
  if (observer) reading = reading.finally(() => observer.end());
  return {
    pid,
    exited: proc.exited,
    async result(lingered) {
      const failed = await reading;
      if (failed) throw failed.error;
      return resultOf(proc, pid, lingered, out, err);
    },
  };
}

function resultOf(proc: Proc, pid: number, lingered: boolean, out: OutputBuffer | undefined, err: OutputBuffer | undefined): ExecResult {
  const signal = proc.signalCode;
  return {
    code: signal ? null : proc.exitCode,
    signal: signal ? String(signal) : null,
    stdout: out ? out.text() : "",
    stderr: err ? err.text() : "",
    truncated: Boolean(out?.truncated || err?.truncated),
    pid,
    lingered,
  };
}
