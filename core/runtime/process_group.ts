/**
 * Process groups as the unit a task's processes live in. A command started by
 * fanout leads its own group, and everything it starts (a shell's children,
 * their children) stays in that group unless it leaves on purpose (setsid).
 * So "the task's processes are gone" means "the group is empty", and that is
 * what a lock waits for before it is given back.
 *
 * Zombies do not count: a member whose parent died is reparented to PID 1,
 * and in a container PID 1 may never reap it, yet kill(-pgid, 0) still finds
 * it. A group whose members are all zombies is gone for every purpose.
 */
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";

/** Sends `signal` to every process in the group; a group already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left to signal.
  }
}

/** Whether any process of the group is alive (not a zombie). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    // EPERM means a member exists that we may not signal: alive, and not ours to judge.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // Something answered: the slow path tells live members from unreaped zombies.
  return hasLiveMember(pgid);
}

/** Scans /proc for a member of the group that is not a zombie. Linux only; elsewhere trusts kill(). */
function hasLiveMember(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync("/proc");
  } catch {
    return true;
  }
  for (const pid of pids) {
    if (pid.charCodeAt(0) > 57) continue; // not a number: "self", "sys", …
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) S ppid pgrp …": comm may hold spaces and parentheses, so split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") return true;
  }
  return false;
}

export interface TerminateOptions {
  /** Milliseconds from SIGTERM to SIGKILL. */
  graceMs: number;
  /** When SIGTERM was already sent (performance.now()); undefined: send it now. */
  termSentAt?: number;
}

const POLL_FIRST_MS = 5;
const POLL_MAX_MS = 50;

/**
 * Ends the group and resolves once it is empty: SIGTERM (unless already
 * sent), up to `graceMs` for the members to leave, then SIGKILL to the whole
 * group. The escalation does not depend on the leader: members that outlive
 * it are killed all the same. Resolves at once when the group is empty.
 */
export async function terminateGroup(pgid: number, options: TerminateOptions): Promise<void> {
  if (!groupAlive(pgid)) return;
  let termSentAt = options.termSentAt;
  if (termSentAt === undefined) {
    killGroup(pgid, "SIGTERM");
    termSentAt = performance.now();
  }
  let killed = false;
  let wait = POLL_FIRST_MS;
  for (;;) {
    if (!killed && performance.now() - termSentAt >= options.graceMs) {
      killGroup(pgid, "SIGKILL");
      killed = true;
    }
    const untilKill = killed ? wait : Math.max(1, Math.min(wait, termSentAt + options.graceMs - performance.now()));
    await new Promise((resolve) => setTimeout(resolve, untilKill));
    if (!groupAlive(pgid)) return;
    wait = Math.min(POLL_MAX_MS, wait * 2);
  }
}
