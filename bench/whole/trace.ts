/**
 * FANOUT_TRACE lines (core/runtime/trace.ts) placed on a benchmark's clock:
 * each phase as milliseconds since the benchmark spawned the process, and
 * medians over many runs. Pure, so it can be tested without running anything.
 */
import { median } from "./figures.ts";

/** One phase of one run: when it ended, in ms after the spawn began. */
export interface TracePoint {
  phase: string;
  ms: number;
}

/** A phase over many runs: median end (`at_ms`) and median length (`step_ms`, since the phase before it). */
export interface PhaseFigure {
  phase: string;
  at_ms: number;
  step_ms: number;
}

/** The trace lines of one run's stderr; other lines are ignored. `spawnedEpochMs` is when the spawn began. */
export function parseTrace(stderr: string, spawnedEpochMs: number): TracePoint[] {
  const points: TracePoint[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.startsWith('{"trace":')) continue;
    const { trace, epoch_ms } = JSON.parse(line) as { trace: string; epoch_ms: number };
    points.push({ phase: trace, ms: epoch_ms - spawnedEpochMs });
  }
  return points;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Medians over runs, phases in the order of the first run. `endedMs[i]` is
 * when run i's spawn returned (the process reaped), added as the phase
 * `reaped`. A phase missing from a run is left out of that run's figures.
 */
export function phaseMedians(runs: TracePoint[][], endedMs: number[]): PhaseFigure[] {
  if (runs.length !== endedMs.length) throw new RangeError("phaseMedians: one end per run");
  const withEnd = runs.map((points, i) => [...points, { phase: "reaped", ms: endedMs[i]! }]);
  const order = withEnd[0]?.map((p) => p.phase) ?? [];
  return order.map((phase) => {
    const at: number[] = [];
    const step: number[] = [];
    for (const points of withEnd) {
      const i = points.findIndex((p) => p.phase === phase);
      if (i < 0) continue;
      at.push(points[i]!.ms);
      step.push(points[i]!.ms - (i > 0 ? points[i - 1]!.ms : 0));
    }
    return { phase, at_ms: r2(median(at)!), step_ms: r2(median(step)!) };
  });
}
