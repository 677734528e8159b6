/**
 * The process that kills every process group fanout started when fanout dies
 * without cleaning up (SIGKILL, the OOM killer). Children live in their own
 * process groups, so nothing else would stop them.
 *
 * A small awk program (one process under 2 MB resident, where a second Bun
 * process would take tens of MB; a shell sets it up and execs it, and kill
 * and sleep run only when fanout died with groups left), started just before
 * fanout's first process, in its own session, ignoring INT, HUP and TERM. It
 * holds a pipe whose only writer is fanout; when the pipe closes — fanout
 * exited, whichever way — it sends SIGTERM to every group still listed,
 * waits up to 1 s for them to go, SIGKILLs the rest and exits. On a clean
 * exit every group has been removed already, so it just exits.
 *
 * The list: an unlinked file in /dev/shm that both hold open, one slot per
 * live group, written in place (watchdog_slots.ts). Writing it wakes
 * nobody; the watchdog reads it once, at the end. Where that file cannot be
 * made, the list goes down the pipe instead, one line per group: `+PGID` as
 * it starts (a synchronous write, so a group is known to the watchdog before
 * fanout does anything else), `-PGID` once it is gone. Those unlistings wait
 * for the next listing, or the end of the event loop's turn, and go out in
 * the same write: one write (one wake-up of the watchdog) per process, not
 * two. Until then the watchdog would only signal a group that is already
 * empty; its id cannot have been reused in that instant. The pipe: under
 * Bun an extra stdio slot (`proc.stdio[3]`, a socket fd that is ours to
 * write); elsewhere the child's stdin pipe, reopened for writing through
 * /proc/PID/fd/0 because node:child_process streams write asynchronously.
 */
import { Buffer } from "node:buffer";
import { closeSync, constants, openSync, writeSync } from "node:fs";
import process from "node:process";
import { setImmediate } from "node:timers";
import { isBun } from "./runtime.ts";
import { nodeChildProcess } from "./lazy_builtins.ts";
import { GroupSlots } from "./watchdog_slots.ts";

/**
 * $1 is fanout's pid (only so that `ps` shows whose watchdog this is, as the
 * awk operand fanout_watchdog=PID), $2 the fd of the pipe, $3 the fd of the
 * list file (empty when there is none), read through /dev/fd at the end.
 * Groups 0 and 1 are never listed: `kill -TERM -1` would signal every
 * process we may. A group that has gone during the grace is dropped before
 * the SIGKILL, so a reused group id is not hit.
 */
const SCRIPT = `trap '' INT HUP TERM
exec awk '
  function note(line) {
    if (line ~ /^[+-][0-9]+$/ && substr(line, 2) + 0 > 1) {
      if (substr(line, 1, 1) == "+") listed[substr(line, 2) + 0] = 1
      else delete listed[substr(line, 2) + 0]
    }
  }
  { note($0) }
  END {
    # A slot holds one group: only its "+" lines count (a "-" frees the slot, it names no other group).
    if (list != "") while ((getline line < list) > 0) if (line ~ /^[+]/) note(line)
    for (g in listed) { system("kill -TERM -" g " 2>/dev/null"); left++ }
    for (tries = 10; left > 0 && tries > 0; tries--) {
      system("sleep 0.1")
      left = 0
      for (g in listed) {
        if (system("kill -0 -" g " 2>/dev/null") == 0) left++
        else delete listed[g]
      }
    }
    for (g in listed) system("kill -KILL -" g " 2>/dev/null")
  }
' list="\${3:+/dev/fd/$3}" fanout_watchdog="$1" fd="$2" <&"$2"
`;

/** Where the watchdog program is and what it needs. */
const SH = "/bin/sh";
const ENV = { PATH: process.env.PATH || "/usr/bin:/bin", LC_ALL: "C" };

/** A running watchdog: `close()` is what fanout's death looks like to it. */
export interface Watchdog {
  readonly pid: number;
  /** Lists a process group: killed if the pipe closes before `untrack`. */
  track(pgid: number): void;
  /** Unlists a group that is gone, so that its id may be reused safely. */
  untrack(pgid: number): void;
  /** Closes our end of the pipe: the watchdog kills what is still listed and exits. */
  close(): void;
}

/** Where the list file is made: a tmpfs on every Linux fanout runs on; null sends the list down the pipe. */
const LIST_DIR = "/dev/shm";

/** Starts a watchdog; throws if it cannot be started. `listDir`: where its list file is made (tests choose). */
export function startWatchdog(listDir: string | null = LIST_DIR): Watchdog {
  const slots = listDir === null ? null : GroupSlots.create(listDir);
  let started: { pid: number; fd: number };
  try {
    started = isBun ? startWithBun(slots?.fd) : startWithNode(slots?.fd);
  } catch (error) {
    slots?.close();
    throw error;
  }
  const { pid, fd } = started;
  let out = fd;
  /** Unlistings for the pipe not yet written: they go out with the next listing, or once the current turn of the event loop is over. */
  let gone = "";
  let flushQueued = false;
  const send = (lines: string) => {
    if (out >= 0 && !writeLines(out, lines)) out = -1;
  };
  const flush = () => {
    flushQueued = false;
    if (gone === "") return;
    const lines = gone;
    gone = "";
    send(lines);
  };
  // A process that ends with process.exit (cli.ts, when no plugin was
  // loaded) may do so before the queued flush has its turn: unlistings
  // lost there would have the watchdog signal groups that are gone, whose
  // ids may by then be another's.
  process.once("exit", flush);
  return {
    pid,
    track: (pgid) => {
      if (slots?.add(pgid)) return;
      const lines = `${gone}+${pgid}\n`;
      gone = "";
      send(lines);
    },
    untrack: (pgid) => {
      if (slots?.remove(pgid)) return;
      gone += `-${pgid}\n`;
      if (!flushQueued) {
        flushQueued = true;
        setImmediate(flush);
      }
    },
    close: () => {
      flush();
      if (out >= 0) closeSync(out);
      out = -1;
      // The watchdog has its own descriptor of the list: closing ours takes nothing from it.
      slots?.close();
    },
  };
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes whole lines. Bun's end is non-blocking: a full pipe makes us wait,
 * as a blocking write would, and a write that took only part of the text is
 * carried on from where it stopped, so the watchdog never reads half a line
 * followed by another. False when the watchdog is gone (killed by hand):
 * there is nobody left to tell, and our end stays open — closing it is what
 * would make a live watchdog kill.
 */
function writeLines(fd: number, lines: string): boolean {
  let bytes: Uint8Array | undefined;
  let at = 0;
  for (;;) {
    try {
      if (bytes === undefined) {
        // The usual case: a few bytes, taken whole.
        const n = writeSync(fd, lines);
        if (n === lines.length) return true; // ASCII: one byte a character
        bytes = Buffer.from(lines);
        at = n;
      } else {
        at += writeSync(fd, bytes, at);
      }
      if (at >= bytes.length) return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return false;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

function startWithBun(list: number | undefined): { pid: number; fd: number } {
  const proc = Bun.spawn({
    cmd: [SH, "-c", SCRIPT, "fanout-watchdog", String(process.pid), "3", list === undefined ? "" : "4"],
    cwd: "/",
    env: ENV,
    stdio: list === undefined ? ["ignore", "ignore", "ignore", "pipe"] : ["ignore", "ignore", "ignore", "pipe", list],
    detached: true,
  });
  proc.unref();
  // Reading stdio[3] hands the parent's end to us: a raw fd the event loop does not watch.
  const fd = proc.stdio[3];
  if (typeof fd !== "number") throw new Error("Internal error: Bun.spawn gave no fd for the watchdog's pipe");
  return { pid: proc.pid, fd };
}

function startWithNode(list: number | undefined): { pid: number; fd: number } {
  const child = nodeChildProcess().spawn(SH, ["-c", SCRIPT, "fanout-watchdog", String(process.pid), "0", list === undefined ? "" : "3"], {
    cwd: "/",
    env: ENV,
    stdio: list === undefined ? ["pipe", "ignore", "ignore"] : ["pipe", "ignore", "ignore", list],
    detached: true,
  });
  child.on("error", () => {});
  if (child.pid === undefined) throw new Error(`cannot start ${SH}`);
  let fd: number;
  try {
    // The child has exec'd, so its fd 0 is the pipe; opening it gives us a writer we can write synchronously.
    fd = openSync(`/proc/${child.pid}/fd/0`, constants.O_WRONLY);
  } finally {
    child.stdin!.destroy();
    child.unref();
  }
  return { pid: child.pid, fd };
}

let shared: Watchdog | null | undefined;

/** This process's watchdog, started on first use; null when it cannot run here (no /bin/sh, no /proc). */
function watchdog(): Watchdog | null {
  if (shared === undefined) {
    try {
      shared = startWatchdog();
    } catch {
      shared = null;
    }
  }
  return shared;
}

/**
 * Starts this process's watchdog unless it runs already. Call before a
 * spawn: a process started first would have no watchdog until this
 * returned (a few milliseconds), and fanout killed then would leave it
 * running.
 */
export function ensureStarted(): void {
  watchdog();
}

/** Tells the watchdog about a process group that just started. Call right after the spawn. */
export function track(pgid: number): void {
  watchdog()?.track(pgid);
}

/** Tells the watchdog a group is gone. Never starts one. */
export function untrack(pgid: number): void {
  shared?.untrack(pgid);
}
