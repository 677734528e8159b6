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
import { groupAlive, killGroup, terminateGroup } from "./process_group.ts";
import { OutputBuffer } from "./output_buffer.ts";
import type { ExecOptions, ExecResult } from "./exec_types.ts";
import { isBun } from "./runtime.ts";
import { describeSpawnError } from "./spawn_errors.ts";
import * as watchdog from "./watchdog.ts";

export type { ExecOptions, ExecResult };

/** Milliseconds from SIGTERM to SIGKILL when neither the task nor the caller says. */
export const DEFAULT_KILL_GRACE_MS = 5000;
const DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024;

/** Process groups started and not yet confirmed empty: a forced exit must not orphan them. */
const liveGroups = new Set<number>();

/**
 * Sends `signal` to every process group we started that is not yet known to
 * be empty. For the last-resort exit (a second Ctrl-C): children live in
 * their own sessions, so the terminal's signal never reaches them by itself.
 */
export function killAllChildren(signal: NodeJS.Signals = "SIGKILL"): void {
  for (const pid of liveGroups) killGroup(pid, signal);
}

/**
 * Waits until every group we started is empty, at most `graceMs`, then
 * SIGKILLs what is left. Normally nothing is left: an attempt ends only once
 * its groups are gone. This is for a module that never returned.
 */
export async function settleChildren(graceMs = DEFAULT_KILL_GRACE_MS): Promise<void> {
  const deadline = performance.now() + graceMs;
  while (liveGroups.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  killAllChildren("SIGKILL");
}

/**
 * Runs `argv` (no shell) and resolves with its exit status and output. Never
 * rejects because of the child's exit status; rejects only when the program
 * cannot be started, or with `signal.reason` after an abort.
 *
 * Either way it settles only once the child's whole process group is gone:
 * on abort, SIGTERM to the group, SIGKILL after the grace, then wait until
 * the group is empty; on a normal exit, members the command left running in
 * its group are ended the same way (and `lingered` says so). So whoever
 * holds a lock for this command holds it until its last process is gone.
 */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) return Promise.reject(new TypeError("exec: argv must not be empty"));
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);
  return isBun ? execBun(argv, options) : execNode(argv, options);
}

/**
 * Watches one started group: SIGTERM at abort (and SIGKILL after the grace,
 * in case the leader itself ignores SIGTERM). `finish` waits for the group to
 * be empty and then forgets it.
 */
function watchGroup(pid: number, options: ExecOptions) {
  const { signal } = options;
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  liveGroups.add(pid);
  watchdog.track(pid);
  let termSentAt: number | undefined;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    killGroup(pid, "SIGTERM");
    termSentAt = performance.now();
    killTimer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();
  return {
    /** Resolves once the group is empty; true when members outlived a leader that was not aborted. */
    async finish(): Promise<boolean> {
      const aborted = termSentAt !== undefined;
      const lingered = !aborted && groupAlive(pid);
      try {
        await terminateGroup(pid, { graceMs, termSentAt });
      } finally {
        signal?.removeEventListener("abort", onAbort);
        if (killTimer !== undefined) clearTimeout(killTimer);
        liveGroups.delete(pid);
        watchdog.untrack(pid);
      }
      return lingered;
    },
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
  let started: ReturnType<typeof spawnWithBun>;
  try {
    started = spawnWithBun(req);
  } catch (e) {
    throw await describeSpawnError(e, argv, options.cwd, { ...process.env, ...options.env });
  }
  const group = watchGroup(started.pid, options);
  // Once the leader has exited, what is left of its group is ended; only then
  // can its pipes reach their end (a leftover may hold them open).
  await started.exited.catch(() => {});
  const lingered = await group.finish();
  const reply = await started.done.then((value) => ({ value }), (error: unknown) => ({ error }));
  if ("error" in reply) throw reply.error;
  if (options.signal?.aborted) throw options.signal.reason;
  return { ...reply.value, pid: started.pid, lingered };
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
    let group: ReturnType<typeof watchGroup> | undefined;
    child.once("error", (e) => {
      if (group) group.finish().then(() => reject(e), reject);
      else void describeSpawnError(e, argv, options.cwd, { ...process.env, ...options.env }).then(reject);
    });
    child.once("spawn", () => {
      group = watchGroup(child.pid!, options);
      if (options.input !== undefined) child.stdin!.end(options.input);
    });
    child.stdout?.on("data", (c: Buffer) => out.push(c));
    child.stderr?.on("data", (c: Buffer) => err.push(c));
    // As under Bun: at the leader's exit, end what is left of its group, then read the pipes to their end.
    let ending: Promise<boolean> | undefined;
    child.once("exit", () => (ending = group!.finish()));
    child.once("close", async (code, sig) => {
      if (!group) return; // never started (Deno emits "close" after "error"): the error settles it
      const lingered = await (ending ?? group!.finish());
      if (options.signal?.aborted) return reject(options.signal.reason);
      resolve({
        code: sig ? null : code,
        signal: sig ?? null,
        stdout: out.text(),
        stderr: err.text(),
        truncated: out.truncated || err.truncated,
        pid: child.pid!,
        lingered,
      });
    });
  });
}
