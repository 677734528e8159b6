/**
 * `fanout history [plan]`: what the journal recorded. Past runs as a table
 * (`--json`: one JSON object per line), one run's attempts (`--run ID`), or
 * what did not succeed in the latest run (`--failed`).
 *
 * Which journal: --journal PATH; else, when `plan` is a plan file, the
 * journal beside it (and only that file's runs); else `.fanout/journal.db`
 * in the current directory, and `plan`, if given, is a plan name.
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { type AttemptRow, getRun, lastRun, listRuns, type RunFilter, type RunRow, runAttempts } from "../journal/history.ts";
import { defaultJournalPath } from "../journal/journal_path.ts";
import { openJournal } from "../journal/open_journal.ts";
import { formatDuration } from "../units.ts";

export interface HistoryFlags {
  json?: boolean;
  journal?: unknown;
  run?: unknown;
  failed?: boolean;
}

/** The journal to read and which of its runs. */
function locate(plan: string | undefined, flags: HistoryFlags): { path: string; filter: RunFilter } {
  const given = typeof flags.journal === "string" && flags.journal !== "" ? flags.journal : undefined;
  if (flags.journal !== undefined && flags.journal !== true && given === undefined) throw new UsageError(`--journal: expected a file path, got ${JSON.stringify(flags.journal)}`);
  if (plan !== undefined && existsSync(plan) && statSync(plan).isFile()) {
    return { path: given ?? defaultJournalPath(plan), filter: { planFile: resolve(plan) } };
  }
  return { path: given ?? defaultJournalPath("plan.yml"), filter: plan === undefined ? {} : { plan } };
}

export function historyAction(plan: string | undefined, flags: HistoryFlags, write: (text: string) => void): number {
  if (flags.run !== undefined && flags.failed) throw new UsageError("--run and --failed contradict each other: give one");
  const runId = flags.run === undefined ? undefined : Number(flags.run);
  if (runId !== undefined && !(Number.isInteger(runId) && runId >= 1)) throw new UsageError(`--run: expected a run id (a whole number >= 1), got ${JSON.stringify(flags.run)}`);
  const { path, filter } = locate(plan, flags);
  const { db } = openJournal(path, { create: false });
  try {
    if (runId !== undefined) {
      if (!getRun(db, runId)) throw new UsageError(`--run: no run ${runId} in ${path}`);
      write(flags.json ? ndjson(runAttempts(db, runId)) : attemptTable(runAttempts(db, runId)));
    } else if (flags.failed) {
      const last = lastRun(db, filter);
      const rows = last ? runAttempts(db, last.run, true) : [];
      write(flags.json ? ndjson(rows) : last ? `run ${last.run} (${last.plan}, ${last.started}): ${rows.length} did not succeed\n${rows.length > 0 ? attemptTable(rows) : ""}` : "no runs recorded\n");
    } else {
      const runs = listRuns(db, filter);
      write(flags.json ? ndjson(runs) : runs.length > 0 ? runTable(runs) : "no runs recorded\n");
    }
  } finally {
    db.close();
  }
  return 0;
}

const ndjson = (rows: object[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

const count = (n: number | null) => (n === null ? "-" : String(n));
const ms = (n: number | null) => (n === null ? "-" : formatDuration(n));

function runTable(runs: RunRow[]): string {
  return table(
    ["RUN", "PLAN", "STARTED", "DURATION", "OK", "FAILED", "SKIPPED", "CACHED", "MAKESPAN", "EXIT"],
    runs.map((r) => [
      String(r.run), r.plan, r.started, ms(r.duration_ms), count(r.ok), count(r.failed === null ? null : r.failed + (r.timed_out ?? 0)),
      count(r.skipped === null ? null : r.skipped + (r.cancelled ?? 0)), count(r.cached), ms(r.makespan_ms),
      r.exit_code === null ? "did not finish" : String(r.exit_code),
    ]),
  );
}

function attemptTable(rows: AttemptRow[]): string {
  return table(
    ["INSTANCE", "ATTEMPT", "STATUS", "DURATION", "ERROR"],
    rows.map((a) => [a.id, String(a.attempt), a.status + (a.cached_from !== null ? ` (run ${a.cached_from})` : ""), ms(a.duration_ms), (a.error ?? "").split("\n")[0]!.slice(0, 120)]),
  );
}
