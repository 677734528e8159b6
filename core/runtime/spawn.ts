/**
 * Starting child processes. Every child gets its own process group so that an
 * abort can take down everything it started (a shell's children included):
 * SIGTERM to the group, then SIGKILL once the grace period is over. Each
 * group is also told to the watchdog (watchdog.ts), which kills it if fanout
 * itself dies first.
 *
 * Under Bun we use Bun.spawn (measurably cheaper per process, which is what
 * bounds dispatch of short commands on small machines); elsewhere
 * node:child_process. Both paths return the same ExecResult.
 */
import { spawn as nodeSpawn } from "node:child_process";
import process from "node:process";
import { type SpawnRequest, spawnWithBun } from "./bun_spawn.ts";
import { OutputBuffer } from "./output_buffer.ts";
import type { ExecOptions, ExecResult } from "./exec_types.ts";
import { isBun } from "./runtime.ts";
import * as watchdog from "./watchdog.ts";

export type { ExecOptions, ExecResult };

const DEFAULT_GRACE_MS = 2000;
const DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024;

/** Process groups started and not yet ended: a forced exit must not orphan them. */
const liveGroups = new Set<number>();

/**
 * Sends `signal` to every process group we started that is still running.
 * For the last-resort exit (a second Ctrl-C): children live in their own
 * sessions, so the terminal's signal never reaches them by itself.
 */
export function killAllChildren(signal: NodeJS.Signals = "SIGKILL"): void {
  for (const pid of liveGroups) killGroup(pid, signal);
}

/**
 * Waits until every child we started has ended, at most `graceMs`, then
 * SIGKILLs what is left. A cancelled instance ends at once (so a module that
 * ignores its signal cannot hold the run), but its process group may still be
 * shutting down: the program must not exit and orphan it.
 */
export async function settleChildren(graceMs = DEFAULT_GRACE_MS): Promise<void> {
  const deadline = performance.now() + graceMs;
  while (liveGroups.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  killAllChildren("SIGKILL");
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone: nothing left to kill.
  }
}

/**
 * Runs `argv` (no shell) and resolves with its exit status and output. Never
 * rejects because of the child's exit status; rejects only when the program
 * cannot be started, or with `signal.reason` after an abort has killed it.
 */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) return Promise.reject(new TypeError("exec: argv must not be empty"));
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);
  return isBun ? execBun(argv, options) : execNode(argv, options);
}

/** Arms abort handling for a started child; returns the cleanup function. */
function watchAbort(pid: number, options: ExecOptions): () => void {
  const { signal } = options;
  liveGroups.add(pid);
  watchdog.track(pid);
  if (!signal) {
    return () => {
      liveGroups.delete(pid);
      watchdog.untrack(pid);
    };
  }
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    killGroup(pid, "SIGTERM");
    killTimer = setTimeout(() => killGroup(pid, "SIGKILL"), options.killGraceMs ?? DEFAULT_GRACE_MS);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  return () => {
    liveGroups.delete(pid);
    watchdog.untrack(pid);
    signal.removeEventListener("abort", onAbort);
    if (killTimer !== undefined) clearTimeout(killTimer);
  };
}

async function execBun(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const req: SpawnRequest = {
    argv: [...argv],
    cwd: options.cwd,
    env: options.env ? { ...process.env, ...options.env } : undefined,
    input: options.input,
    output: options.output ?? "capture",
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
  };
  // Bun.spawn returns once the child has exec'd; a failure to start throws here.
  const started = spawnWithBun(req);
  const stopWatching = watchAbort(started.pid, options);
  try {
    const reply = await started.done;
    if (options.signal?.aborted) throw options.signal.reason;
    return { ...reply, pid: started.pid };
  } finally {
    stopWatching();
  }
}

function execNode(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = nodeSpawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: [options.input !== undefined ? "pipe" : "ignore", options.output === "discard" ? "ignore" : "pipe", options.output === "discard" ? "ignore" : "pipe"],
      detached: true,
    });
    const out = new OutputBuffer(limit);
    const err = new OutputBuffer(limit);
    let stopWatching = () => {};
    child.once("error", (e) => {
      stopWatching();
      reject(e);
    });
    child.once("spawn", () => {
      stopWatching = watchAbort(child.pid!, options);
      if (options.input !== undefined) child.stdin!.end(options.input);
    });
    child.stdout?.on("data", (c: Buffer) => out.push(c));
    child.stderr?.on("data", (c: Buffer) => err.push(c));
    child.once("close", (code, sig) => {
      stopWatching();
      if (options.signal?.aborted) return reject(options.signal.reason);
      resolve({
        code: sig ? null : code,
        signal: sig ?? null,
        stdout: out.text(),
        stderr: err.text(),
        truncated: out.truncated || err.truncated,
        pid: child.pid!,
      });
    });
  });
}
