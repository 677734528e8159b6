/**
 * One run of one command, measured from outside, start to exit: wall time
 * around the spawn, and the child's rusage (CPU time; peak RSS of it and its
 * waited-for children) from wait4, which Bun's spawnSync returns. Peak RSS
 * is taken from `/usr/bin/time -v` when given, the same wait4 figure printed
 * by a tool every reader knows. Output goes to /dev/null; stderr is kept
 * only to explain a failure.
 */
import { parseTimeVMaxRss } from "./figures.ts";

export interface Command {
  argv: string[];
  cwd: string;
  /** Untimed, before every run: e.g. remove the objects a compile left. */
  prepare?: () => void;
  /** Variables added to this process's environment. */
  env?: Record<string, string>;
}

export interface Outcome {
  wallMs: number;
  cpuMs: number;
  rssBytes: number;
  /** When the spawn began, on the epoch clock (performance.timeOrigin + now), for FANOUT_TRACE lines. */
  spawnedEpochMs: number;
  stderr: string;
}

/** Runs `cmd` once; throws when it cannot start or exits non-zero. `timeV` is the path of `/usr/bin/time`. */
export function runOnce(cmd: Command, timeV?: string): Outcome {
  cmd.prepare?.();
  const argv = timeV ? [timeV, "-v", ...cmd.argv] : cmd.argv;
  const env = cmd.env ? { ...process.env, ...cmd.env } : undefined;
  const t0 = performance.now();
  const child = Bun.spawnSync({ cmd: argv, cwd: cmd.cwd, env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const wallMs = performance.now() - t0;
  const stderr = child.stderr.toString();
  if (child.exitCode !== 0) {
    const tail = stderr.trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${cmd.argv.join(" ")}: exit ${child.exitCode ?? child.signalCode}: ${tail}`);
  }
  const usage = child.resourceUsage;
  const rssBytes = timeV ? parseTimeVMaxRss(stderr) : usage.maxRSS;
  if (rssBytes === undefined) throw new Error(`${timeV} -v printed no "Maximum resident set size" line`);
  return { wallMs, cpuMs: Number(usage.cpuTime.total) / 1000, rssBytes, spawnedEpochMs: performance.timeOrigin + t0, stderr };
}
