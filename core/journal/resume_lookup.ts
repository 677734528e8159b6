/**
 * What `--resume` may skip: the keys of instances that ended ok in an
 * earlier run of the same plan (by plan name; the key holds the name too).
 * Read once, at the start of the run, into memory: one query rather than one
 * per instance, and no index on keys to keep up while writing.
 */
import type { DatabaseSync } from "node:sqlite";

/** key → the latest run (other than `currentRun`) in which it ended ok. */
export function loadFinished(db: DatabaseSync, plan: string, currentRun: number): Map<string, number> {
  const rows = db.prepare(`SELECT a.key AS key, a.run_id AS run FROM attempts a
    WHERE a.run_id IN (SELECT id FROM runs WHERE plan = ? AND id != ?) AND a.status = 'ok' AND a.final = 1 AND a.key IS NOT NULL
    ORDER BY a.run_id`).all(plan, currentRun) as { key: string; run: number }[];
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.key, r.run);
  return out;
}
