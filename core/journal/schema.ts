/**
 * The journal's tables and their version. The version lives in the file
 * (`meta.schema_version`): a file from a newer fanout is refused rather
 * than misread; an older one is brought up to date, one step at a time,
 * inside the transaction that checks it.
 */
import type { DatabaseSync } from "node:sqlite";
import { UsageError } from "../errors.ts";

/** The version this fanout writes. */
export const JOURNAL_SCHEMA_VERSION = 3;

/**
 * MIGRATIONS[n] takes a journal from version n to n + 1. Version 0 is an
 * empty file. Appended to, never edited: a released step is in users' files.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     plan TEXT NOT NULL,
     plan_file TEXT NOT NULL,
     started TEXT NOT NULL,
     fanout_version TEXT NOT NULL,
     pid INTEGER NOT NULL,
     resume INTEGER NOT NULL,
     instances INTEGER NOT NULL,
     ended TEXT,
     duration_ms REAL,
     makespan_ms REAL,
     ok INTEGER, failed INTEGER, timed_out INTEGER, skipped INTEGER, cancelled INTEGER, cached INTEGER,
     exit_code INTEGER
   );
   CREATE INDEX runs_plan ON runs(plan, id);
   CREATE TABLE attempts (
     run_id INTEGER NOT NULL REFERENCES runs(id),
     instance TEXT NOT NULL,
     task TEXT NOT NULL,
     host TEXT NOT NULL,
     item TEXT NOT NULL,
     attempt INTEGER NOT NULL,
     final INTEGER NOT NULL,
     key TEXT,
     status TEXT NOT NULL,
     t_ms REAL NOT NULL,
     duration_ms REAL NOT NULL,
     changed INTEGER NOT NULL,
     data TEXT,
     error TEXT,
     cached_from INTEGER
   );
   CREATE INDEX attempts_run ON attempts(run_id);`,
  // 1 → 2: which runner ran an attempt of a distributed run (--distribute); null otherwise.
  `ALTER TABLE attempts ADD COLUMN runner TEXT;`,
  // 2 → 3: per plan and instance key, the latest run in which the instance
  // ended ok: what --resume reads at the start. Reading it from attempts
  // meant reading every success of every earlier run, so a plan's resume
  // started slower and took more memory with each run it had behind it;
  // this table holds one row per key. Kept by SQLite itself as each final ok
  // row goes in (max(): two fanouts on one file may write out of order),
  // and filled from the attempts already recorded.
  `CREATE TABLE finished (
     plan TEXT NOT NULL,
     key TEXT NOT NULL,
     run_id INTEGER NOT NULL,
     PRIMARY KEY (plan, key)
   ) WITHOUT ROWID;
   INSERT INTO finished (plan, key, run_id)
     SELECT r.plan, a.key, max(a.run_id) FROM attempts a JOIN runs r ON r.id = a.run_id
     WHERE a.status = 'ok' AND a.final = 1 AND a.key IS NOT NULL
     GROUP BY r.plan, a.key;
   CREATE TRIGGER attempts_finished AFTER INSERT ON attempts
     WHEN NEW.status = 'ok' AND NEW.final = 1 AND NEW.key IS NOT NULL
   BEGIN
     INSERT INTO finished (plan, key, run_id) SELECT plan, NEW.key, NEW.run_id FROM runs WHERE id = NEW.run_id
       ON CONFLICT (plan, key) DO UPDATE SET run_id = max(run_id, excluded.run_id);
   END;`,
];

/** The version written in the file; 0 for a new, empty one. */
function versionOf(db: DatabaseSync): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!table) return 0;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  return row ? Number(row.value) : 0;
}

/**
 * Brings `db` to JOURNAL_SCHEMA_VERSION. Call inside a write transaction, so
 * two fanouts opening one new file do not both create it.
 */
export function migrate(db: DatabaseSync, path: string): void {
  const found = versionOf(db);
  if (!Number.isInteger(found) || found < 0) throw new UsageError(`journal ${path}: unreadable schema version ${JSON.stringify(found)}`);
  if (found > JOURNAL_SCHEMA_VERSION) {
    throw new UsageError(
      `journal ${path} was written by a newer fanout (journal schema ${found}; this fanout reads up to ${JOURNAL_SCHEMA_VERSION}): ` +
        `upgrade fanout, or give another file with --journal PATH, or run with --no-journal`,
    );
  }
  for (let v = found; v < JOURNAL_SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
  if (found !== JOURNAL_SCHEMA_VERSION) {
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(JOURNAL_SCHEMA_VERSION));
  }
}
