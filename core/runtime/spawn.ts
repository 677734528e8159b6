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
import process from "node:process";
import { type BunChild, type SpawnRequest, spawnWithBun } from "./bun_spawn.ts";
import { groupAlive, killGroup, terminateGroup } from "./process_group.ts";
import { OutputBuffer } from "./output_buffer.ts";
import type { ExecOptions, ExecResult } from "./exec_types.ts";
import type { OutputObserver } from "./output_observer.ts";
import { isBun } from "./runtime.ts";
import { describeSpawnError } from "./spawn_errors.ts";
import * as watchdog from "./watchdog.ts";
import { nodeChildProcess } from "./lazy_builtins.ts";

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
 *
 * `observer`, when given, is told each chunk of captured output as it is
 * read, and its end before exec settles (output_observer.ts); discarded
 * output is never observed.
 *
 * `fds`: descriptors of ours the child gets as its fds 3, 4, … (the make
 * jobserver's pipe, core/jobserver.ts); nothing else of ours is inherited.
 */
export function exec(argv: readonly string[], options: ExecOptions = {}, observer?: OutputObserver, fds?: readonly number[]): Promise<ExecResult> {
  if (argv.length === 0) return Promise.reject(new TypeError("exec: argv must not be empty"));
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);
  if (options.output === "discard") observer = undefined;
  // Up before the child exists: no moment leaves the child without one.
  watchdog.ensureStarted();
  return isBun ? execBun(argv, options, observer, fds) : execNode(argv, options, observer, fds);
}

/**
 * Watches one started group: SIGTERM at abort (and SIGKILL after the grace,
 * in case the leader itself ignores SIGTERM). `finish` waits for the group to
 * be empty and then forgets it. One object per spawn, its own abort listener
 * (handleEvent), no closures.
 */
class GroupWatch {
  private termSentAt: number | undefined;
  private killTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly graceMs: number;

  constructor(private readonly pid: number, private readonly signal: AbortSignal | undefined, graceMs: number | undefined) {
    this.graceMs = graceMs ?? DEFAULT_KILL_GRACE_MS;
    liveGroups.add(pid);
    watchdog.track(pid);
    if (signal?.aborted) this.handleEvent();
    else signal?.addEventListener("abort", this, { once: true });
  }

  /** The signal aborted: SIGTERM to the group now, SIGKILL after the grace. */
  handleEvent(): void {
    if (this.termSentAt !== undefined) return;
    killGroup(this.pid, "SIGTERM");
    this.termSentAt = performance.now();
    this.killTimer = setTimeout(() => killGroup(this.pid, "SIGKILL"), this.graceMs);
  }

  /**
   * Resolves once the group is empty; true when members outlived a leader
   * that was not aborted. After a leader's normal exit the group is nearly
   * always empty already: one kill(-pgid, 0) says so, and the answer is
   * given at once.
   */
  finish(): boolean | Promise<boolean> {
    const aborted = this.termSentAt !== undefined;
    if (!aborted && !groupAlive(this.pid)) {
      this.forget();
      return false;
    }
    return terminateGroup(this.pid, { graceMs: this.graceMs, termSentAt: this.termSentAt })
      .finally(() => this.forget())
      .then(() => !aborted);
  }

  private forget(): void {
    this.signal?.removeEventListener("abort", this);
    if (this.killTimer !== undefined) clearTimeout(this.killTimer);
    liveGroups.delete(this.pid);
    watchdog.untrack(this.pid);
  }
}

async function execBun(argv: readonly string[], options: ExecOptions, observer: OutputObserver | undefined, fds: readonly number[] | undefined): Promise<ExecResult> {
  const req: SpawnRequest = {
    argv: argv as string[], // read by Bun.spawn, never changed: no copy
    cwd: options.cwd,
    // Always given: without it Bun.spawn hands the child the environment
    // fanout started with, not process.env as a plugin may have changed it
    // (node:child_process, under Deno, reads process.env as it is now).
    env: { ...process.env, ...options.env },
    input: options.input,
    output: options.output ?? "capture",
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
    observer,
    fds,
  };
  // Bun.spawn returns once the child has exec'd; a failure to start throws here.
  let child: BunChild;
  try {
    child = spawnWithBun(req);
  } catch (e) {
    throw await describeSpawnError(e, argv, options.cwd, req.env);
  }
  const group = new GroupWatch(child.pid, options.signal, options.killGraceMs);
  // Once the leader has exited, what is left of its group is ended; only then
  // can its pipes reach their end (a leftover may hold them open).
  try {
    await child.exited;
  } catch {
    // the group and the pipes below still settle it
  }
  const ended = group.finish();
  const lingered = typeof ended === "boolean" ? ended : await ended;
  const result = await child.result(lingered);
  if (options.signal?.aborted) throw options.signal.reason;
  return result;
}

function execNode(argv: readonly string[], options: ExecOptions, observer: OutputObserver | undefined, fds: readonly number[] | undefined): Promise<ExecResult> {
  const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = nodeChildProcess().spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: [options.input !== undefined ? "pipe" : "ignore", options.output === "discard" ? "ignore" : "pipe", options.output === "discard" ? "ignore" : "pipe", ...(fds ?? [])],
      detached: true,
    });
    const out = new OutputBuffer(limit);
    const err = new OutputBuffer(limit);
    let group: GroupWatch | undefined;
    child.once("error", (e) => {
      if (group) Promise.resolve(group.finish()).then(() => reject(e), reject);
      else void describeSpawnError(e, argv, options.cwd, { ...process.env, ...options.env }).then(reject);
    });
    child.once("spawn", () => {
      group = new GroupWatch(child.pid!, options.signal, options.killGraceMs);
      if (options.input !== undefined) child.stdin!.end(options.input);
    });
    // Without an observer, the capture alone: no work per chunk beyond it.
    child.stdout?.on("data", observer ? (c: Buffer) => (out.push(c), observer.chunk("stdout", c)) : (c: Buffer) => out.push(c));
    child.stderr?.on("data", observer ? (c: Buffer) => (err.push(c), observer.chunk("stderr", c)) : (c: Buffer) => err.push(c));
    // As under Bun: at the leader's exit, end what is left of its group, then read the pipes to their end.
    let ending: boolean | Promise<boolean> | undefined;
    child.once("exit", () => (ending = group!.finish()));
    child.once("close", async (code, sig) => {
      if (!group) return; // never started (Deno emits "close" after "error"): the error settles it
      observer?.end(); // the pipes are closed: every chunk has been read
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
