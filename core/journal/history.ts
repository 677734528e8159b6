/**
 * Reading the journal back: past runs, one run's attempts, and what failed
 * in the latest run. Rows come out as the JSON `fanout history --json`
 * prints (snake_case, as in the events).
 */
import type { DatabaseSync } from "node:sqlite";

export interface RunRow {
  run: number;
  plan: string;
  plan_file: string;
  started: string;
  /** null while the run is going on, or when it never finished (killed). */
  ended: string | null;
  duration_ms: number | null;
  makespan_ms: number | null;
  instances: number;
  ok: number | null;
  failed: number | null;
  timed_out: number | null;
  skipped: number | null;
  cancelled: number | null;
  cached: number | null;
  exit_code: number | null;
  resume: boolean;
}

export interface AttemptRow {
  run: number;
  id: string;
  task: string;
  host: string;
  item: unknown;
  attempt: number;
  /** True for the attempt that ended the instance (its task_end); false for one followed by a retry. */
  final: boolean;
  status: string;
  t_ms: number;
  duration_ms: number;
  changed: boolean;
  data: Record<string, unknown>;
  error: string | null;
  cached_from: number | null;
  key: string | null;
  /** The runner of a distributed run's attempt (--distribute); null otherwise. */
  runner: string | null;
}

/** Which runs: all, those of a plan name, or those of a plan file. */
export interface RunFilter {
  plan?: string;
  planFile?: string;
}

const RUN_COLUMNS = `id AS run, plan, plan_file, started, ended, duration_ms, makespan_ms, instances, ok, failed, timed_out,
  skipped, cancelled, cached, exit_code, resume`;

function where(filter: RunFilter): { sql: string; args: string[] } {
  if (filter.planFile !== undefined) return { sql: "WHERE plan_file = ?", args: [filter.planFile] };
  if (filter.plan !== undefined) return { sql: "WHERE plan = ?", args: [filter.plan] };
  return { sql: "", args: [] };
}

function toRun(row: Record<string, unknown>): RunRow {
  return { ...row, resume: row.resume === 1 } as unknown as RunRow;
}

/** Past runs, oldest first. */
export function listRuns(db: DatabaseSync, filter: RunFilter = {}): RunRow[] {
  const w = where(filter);
  return (db.prepare(`SELECT ${RUN_COLUMNS} FROM runs ${w.sql} ORDER BY id`).all(...w.args) as Record<string, unknown>[]).map(toRun);
}

export function getRun(db: DatabaseSync, id: number): RunRow | undefined {
  const row = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(id) as Record<string, unknown> | undefined;
  return row && toRun(row);
}

/** The latest run of the filter, or undefined when there is none. */
export function lastRun(db: DatabaseSync, filter: RunFilter = {}): RunRow | undefined {
  const w = where(filter);
  const row = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs ${w.sql} ORDER BY id DESC LIMIT 1`).get(...w.args) as Record<string, unknown> | undefined;
  return row && toRun(row);
}

/** Every recorded attempt of a run, in the order they ended; `failedOnly`: final attempts that did not end ok or cached. */
export function runAttempts(db: DatabaseSync, run: number, failedOnly = false): AttemptRow[] {
  const filter = failedOnly ? "AND final = 1 AND status NOT IN ('ok', 'cached')" : "";
  const rows = db.prepare(`SELECT run_id AS run, instance AS id, task, host, item, attempt, final, status, t_ms, duration_ms, changed,
    data, error, cached_from, key, runner FROM attempts WHERE run_id = ? ${filter} ORDER BY rowid`).all(run) as Record<string, unknown>[];
  return rows.map((r) => ({
    ...r,
    item: JSON.parse(r.item as string),
    final: r.final === 1,
    changed: r.changed === 1,
    data: r.data === null ? {} : JSON.parse(r.data as string),
  }) as unknown as AttemptRow);
}
