/**
 * What `--resume` may skip: the keys of instances that ended ok in an
 * earlier run of the same plan (by plan name; the key holds the name too).
 * Read once, at the start of the run, into memory: one query rather than one
 * per instance. The `finished` table (schema.ts) holds one row per key, so
 * this reads as many rows as the plan has had distinct instances, however
 * many runs it has behind it.
 */
import type { DatabaseSync } from "node:sqlite";

/** key → the latest run (other than `currentRun`) in which it ended ok. */
export function loadFinished(db: DatabaseSync, plan: string, currentRun: number): Map<string, number> {
  const rows = db.prepare("SELECT key, run_id AS run FROM finished WHERE plan = ? AND run_id != ?").all(plan, currentRun) as { key: string; run: number }[];
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.key, r.run);
  return out;
}
