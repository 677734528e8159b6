/**
 * FANOUT_TRACE=1: one JSON line on stderr per phase of start-up and exit
 * (`{"trace":"plan_loaded","t_ms":21.4,"epoch_ms":1764483021113.2}`), so the
 * milliseconds between a shell's fork and fanout's exit can be told apart.
 * `t_ms` counts from the runtime's time origin, set part way through the
 * runtime's own start (it misses the exec and more); `epoch_ms` lets a
 * benchmark that knows when it spawned the process place each phase on its
 * own clock, from the spawn.
 *
 * Off (the default), a phase costs one boolean test. Written with
 * writeSync: a trace must not create process.stderr, whose set-up is one of
 * the costs it measures.
 */
import { writeSync } from "node:fs";
import process from "node:process";

const enabled = Boolean(process.env.FANOUT_TRACE);

/** Marks the end of a phase of start-up or exit. */
export function trace(phase: string): void {
  if (!enabled) return;
  const now = performance.now();
  const line = { trace: phase, t_ms: Math.round(now * 100) / 100, epoch_ms: Math.round((performance.timeOrigin + now) * 100) / 100 };
  try {
    writeSync(2, `${JSON.stringify(line)}\n`);
  } catch {
    // A trace is never worth a failure of the run.
  }
}

/** Whether FANOUT_TRACE is set (to skip work done only for the trace). */
export function tracing(): boolean {
  return enabled;
}
