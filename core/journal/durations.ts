/**
 * Durations of earlier runs of a plan, for `fanout explain`: per instance,
 * the duration of the latest attempt that ended it ok (a failure or a
 * timeout says little about how long the work takes; `cached` took none).
 */
import type { DatabaseSync } from "node:sqlite";

export interface RecordedDurations {
  /** The runs of this plan file that recorded at least one ok instance. */
  runs: number[];
  /** Instance id → milliseconds, from the latest run that has it ok. */
  byId: Map<string, number>;
}

export function recordedDurations(db: DatabaseSync, planFile: string): RecordedDurations {
  const rows = db.prepare(`SELECT a.run_id AS run, a.instance AS id, a.duration_ms AS ms FROM attempts a JOIN runs r ON r.id = a.run_id
    WHERE r.plan_file = ? AND a.final = 1 AND a.status = 'ok' ORDER BY a.run_id, a.rowid`).all(planFile) as { run: number; id: string; ms: number }[];
  const byId = new Map<string, number>();
  const runs = new Set<number>();
  // Oldest first: a later run's duration replaces an earlier one's.
  for (const row of rows) {
    byId.set(row.id, row.ms);
    runs.add(row.run);
  }
  return { runs: [...runs], byId };
}
