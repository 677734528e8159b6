/**
 * Where a plan's journal is when no --journal is given. Its own file, so
 * that the run command can name the path without loading SQLite.
 */
import { dirname, join, resolve } from "node:path";

/** `.fanout/journal.db` in the plan's directory. */
export function defaultJournalPath(planFile: string): string {
  return join(dirname(resolve(planFile)), ".fanout", "journal.db");
}
