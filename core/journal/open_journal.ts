/**
 * Opening the journal file: where it is, its modes, SQLite's settings, the
 * schema check and the per-journal salt.
 *
 * - The directory is made 0700 and the file 0600 before SQLite opens it
 *   (SQLite gives its -wal and -shm files the database's mode), so what a
 *   run recorded is readable by its owner alone.
 * - WAL with synchronous=NORMAL: a killed fanout never corrupts the file
 *   (SQLite's guarantee; what was committed stays), and readers do not
 *   block the writer. A busy timeout and short write transactions let two
 *   fanouts share one journal.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { UsageError } from "../errors.ts";
import { migrate } from "./schema.ts";

/** How long a write waits for another fanout's transaction on the same file. */
const BUSY_TIMEOUT_MS = 10_000;

export interface OpenedJournal {
  db: DatabaseSync;
  path: string;
  /** Random, made once per journal: secret values enter instance keys only hashed with it. */
  salt: string;
}

/**
 * Opens (creating if need be) the journal at `path`. `create: false` opens
 * only an existing file (`fanout history` never makes one).
 */
export function openJournal(path: string, options: { create?: boolean } = {}): OpenedJournal {
  const file = resolve(path);
  if (!existsSync(file)) {
    if (options.create === false) throw new UsageError(`no journal at ${file}: no run has been recorded there (give --journal PATH, or run the plan first)`);
    makePrivateFile(file);
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
  } catch (error) {
    throw new UsageError(`cannot open the journal ${file}: ${(error as Error).message}`);
  }
  try {
    const salt = inWriteTransaction(db, () => {
      migrate(db, file);
      db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)").run(randomBytes(32).toString("base64url"));
      return (db.prepare("SELECT value FROM meta WHERE key = 'salt'").get() as { value: string }).value;
    });
    return { db, path: file, salt };
  } catch (error) {
    db.close();
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot use the journal ${file}: ${(error as Error).message}`);
  }
}

/** A new empty file, 0600, in a directory made 0700 (an existing directory keeps its mode). */
function makePrivateFile(file: string): void {
  const dir = dirname(file);
  try {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700); // the umask may have taken bits away; never added any
    }
    closeSync(openSync(file, "a", 0o600));
    chmodSync(file, 0o600);
  } catch (error) {
    throw new UsageError(`cannot create the journal ${file}: ${(error as Error).message}`);
  }
}

/** Runs `body` in BEGIN IMMEDIATE … COMMIT (rolled back if it throws): one writer at a time, waiting up to the busy timeout. */
export function inWriteTransaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = body();
    db.exec("COMMIT");
    return out;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}
