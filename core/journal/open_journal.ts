/**
 * Opening the journal file: where it is, its modes, SQLite's settings, the
 * schema check and the per-journal salt.
 *
 * - The directory is made 0700 and the file 0600 before SQLite opens it
 *   (SQLite gives its -wal and -shm files the database's mode), so what a
 *   run recorded is readable by its owner alone.
 * - WAL with synchronous=OFF: a killed fanout (SIGKILL, the OOM killer) never
 *   corrupts the file, since what SQLite wrote is in the kernel's hands
 *   (SQLite's guarantee), and readers do not block the writer. OFF does not
 *   wait for the disk: with NORMAL, creating the WAL and checkpointing it at
 *   close cost two fsyncs per run, 20–30 ms of a one-task run's wall time
 *   here. What OFF gives up is the machine's crash or power loss: the last
 *   runs' rows may be lost or the file damaged. A damaged journal is moved
 *   aside (`journal.db.damaged-<time>`) with a warning and a new one started:
 *   the journal is a record for --resume and history, and without it an
 *   instance runs again, never wrongly skipped. A busy timeout and short
 *   write transactions let two fanouts share one journal.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { UsageError } from "../errors.ts";
import { randomToken } from "../runtime/sha256.ts";
import { migrate } from "./schema.ts";

/** How long a write waits for another fanout's transaction on the same file. */
const BUSY_TIMEOUT_MS = 10_000;

export interface OpenedJournal {
  db: DatabaseSync;
  path: string;
  /** Random, made once per journal: secret values enter instance keys only hashed with it. */
  salt: string;
  /** Set when the file was damaged and moved aside for a new one: where it went, for a warning. */
  movedAside?: string;
}

/**
 * Opens (creating if need be) the journal at `path`. `create: false` opens
 * only an existing file (`fanout history` never makes one).
 */
export function openJournal(path: string, options: { create?: boolean } = {}): OpenedJournal {
  const file = resolve(path);
  try {
    return openFile(file, options);
  } catch (error) {
    // Only a writer replaces a damaged file; `fanout history` reports it.
    if (!(error instanceof DamagedJournal)) throw error;
    if (options.create === false) throw error.usage;
    const aside = `${file}.damaged-${new Date().toISOString().replaceAll(":", "-")}`;
    for (const suffix of ["", "-wal", "-shm"]) {
      if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
    }
    return { ...openFile(file, options), movedAside: aside };
  }
}

/** SQLite's words for a file that is not a sound database (SQLITE_CORRUPT, SQLITE_NOTADB). */
const DAMAGED = /malformed|not a database|file is not a database|database disk image/i;

class DamagedJournal extends Error {
  constructor(readonly usage: UsageError) {
    super(usage.message);
  }
}

function openFile(file: string, options: { create?: boolean }): OpenedJournal {
  if (!existsSync(file)) {
    if (options.create === false) throw new UsageError(`no journal at ${file}: no run has been recorded there (give --journal PATH, or run the plan first)`);
    makePrivateFile(file);
  }
  const failed = (what: string, error: unknown) => {
    const usage = new UsageError(`${what} ${file}: ${(error as Error).message}`);
    return DAMAGED.test((error as Error).message) ? new DamagedJournal(usage) : usage;
  };
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;");
  } catch (error) {
    throw failed("cannot open the journal", error);
  }
  try {
    const salt = inWriteTransaction(db, () => {
      migrate(db, file);
      const found = db.prepare("SELECT value FROM meta WHERE key = 'salt'").get() as { value: string } | undefined;
      if (found) return found.value;
      const salt = randomToken(32);
      db.prepare("INSERT INTO meta (key, value) VALUES ('salt', ?)").run(salt);
      return salt;
    });
    return { db, path: file, salt };
  } catch (error) {
    db.close();
    if (error instanceof UsageError) throw error;
    throw failed("cannot use the journal", error);
  }
}

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
