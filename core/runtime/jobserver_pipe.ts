/**
 * The pipe of a GNU make jobserver, as file descriptors: one byte in the
 * pipe is one free job slot. fanout's own reads never wait (a non-blocking
 * descriptor of its own, so the blocking mode that clients set on theirs is
 * never shared with it); its writes put tokens back.
 *
 * ServedPipe is the one fanout serves: a fifo in a private directory, made
 * when a command is first given it (until then the free tokens are only
 * counted, so a run with no shell command makes none). The same fifo
 * backs both forms a command may be given: its path (`fifo:PATH`, make ≥ 4.4,
 * ninja ≥ 1.13) and two descriptors of it passed as fds 3 and 4 (`3,4`, every
 * GNU make since 4.2 and the jobserver crate); so commands of either form
 * draw from one budget.
 *
 * InheritedPipe is the one fanout was started under (MAKEFLAGS).
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, rmdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import type { JobserverAuth } from "./makeflags.ts";
import { makeFifo, preloadFifoMaker } from "./mkfifo.ts";
import { makeTempDir } from "./temp_dir.ts";

/** The byte GNU make writes; a token read is given back as the same byte. */
export const TOKEN = 0x2b;

/** What a command is given: descriptors to pass (as fds 3, 4, …) and the auth naming them. */
export interface ChildJobserver {
  fds: number[];
  auth: JobserverAuth;
}

const one = new Uint8Array(1);

/** One token if the pipe has one now; never waits. */
function readToken(fd: number): number | undefined {
  try {
    return readSync(fd, one, 0, 1, null) === 1 ? one[0] : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EAGAIN") return undefined;
    throw error;
  }
}

function writeTokens(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** The child descriptors of a pipe form, as the command sees them: stdio entries 3 and 4. */
const pipeForm = (read: number, write: number): ChildJobserver => ({ fds: [read, write], auth: { style: "pipe", read: 3, write: 4 } });

interface Fifo {
  dir: string;
  path: string;
  /** fanout's own ends: a non-blocking reader and a writer. */
  reader: number;
  writer: number;
  /** The descriptors commands are given (the pipe form), opened apart from fanout's. */
  childRead: number;
  childWrite: number;
}

export class ServedPipe {
  private free: number;
  private fifo?: Fifo;

  /**
   * `named`: some command will be given the fifo form, which needs the path
   * for the whole run. Without it the fifo is unlinked as soon as it is
   * open (its descriptors work on), so a fanout killed with SIGKILL leaves
   * nothing behind in the temporary directory.
   */
  constructor(tokens: number, private readonly named = true) {
    this.free = tokens;
    preloadFifoMaker();
  }

  take(): number | undefined {
    if (this.fifo) return readToken(this.fifo.reader);
    if (this.free === 0) return undefined;
    this.free--;
    return TOKEN;
  }

  put(token: number): void {
    if (this.fifo) writeTokens(this.fifo.writer, Uint8Array.of(token));
    else this.free++;
  }

  /**
   * Takes every token out and puts `count` back; returns how many there were.
   * Only while no command of the run is alive: then every slot is free, and
   * tokens a killed command took with it are made again.
   */
  reset(count: number): number {
    if (!this.fifo) {
      const was = this.free;
      this.free = count;
      return was;
    }
    let was = 0;
    while (readToken(this.fifo.reader) !== undefined) was++;
    writeTokens(this.fifo.writer, new Uint8Array(count).fill(TOKEN));
    return was;
  }

  /** What a command is given in `style`; the fifo is made on the first call. */
  child(style: "pipe" | "fifo"): ChildJobserver {
    const fifo = this.fifo ?? this.make();
    if (style === "fifo" && !this.named) throw new Error("Internal error: the fifo form of a jobserver served without a path");
    return style === "fifo" ? { fds: [], auth: { style: "fifo", path: fifo.path } } : pipeForm(fifo.childRead, fifo.childWrite);
  }

  /** Closes every descriptor and removes the fifo. */
  close(): void {
    const fifo = this.fifo;
    if (!fifo) return;
    this.fifo = undefined;
    for (const fd of [fifo.reader, fifo.writer, fifo.childRead, fifo.childWrite]) closeSync(fd);
    if (this.named) removeFifo(fifo);
  }

  private make(): Fifo {
    const dir = makePrivateDir(this.named);
    const path = join(dir, "fifo");
    const failed = makeFifo(path);
    if (failed !== undefined) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`cannot make the jobserver fifo ${path}: ${failed}`);
    }
    return this.open(dir, path);
  }

  /** Opens a made fifo and moves the counted free tokens into it. */
  private open(dir: string, path: string): Fifo {
    // In this order no open waits: a reader exists before the first writer, a writer before the blocking reader.
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(path, constants.O_WRONLY);
    const childRead = openSync(path, constants.O_RDONLY);
    const childWrite = openSync(path, constants.O_WRONLY);
    this.fifo = { dir, path, reader, writer, childRead, childWrite };
    if (!this.named) removeFifo(this.fifo);
    writeTokens(writer, new Uint8Array(this.free).fill(TOKEN));
    this.free = 0;
    return this.fifo;
  }
}

/**
 * The private folder (mkdtemp: mode 0700) the fifo is made in. A fifo whose
 * path a command is given goes where make puts its own, the temporary
 * directory (TMPDIR). One that is unlinked as soon as it is open is never
 * seen by anyone, so it goes to a RAM-backed folder when there is one
 * (XDG_RUNTIME_DIR, else /dev/shm): on a disk file system such as ext4,
 * making the folder and the fifo, unlinking them and the last close, which
 * frees the inode, are journal updates, about 1–3 ms of a one-task run
 * there against 0.3 ms on tmpfs.
 */
function makePrivateDir(named: boolean, env: Record<string, string | undefined> = process.env): string {
  const ram = named ? [] : [env.XDG_RUNTIME_DIR, "/dev/shm"].filter((d): d is string => d !== undefined && d.startsWith("/"));
  for (const base of ram) {
    try {
      return makeTempDir("fanout-jobserver-", base);
    } catch {
      // not there, or not ours to write: the next place
    }
  }
  return makeTempDir("fanout-jobserver-");
}

/** The fifo and its folder only: cheaper than a recursive removal, which was nearly all of a one-task run's close. */
function removeFifo(fifo: Fifo): void {
  rmSync(fifo.path, { force: true });
  rmdirSync(fifo.dir);
}

/**
 * A parent's jobserver: its fifo, or the two descriptors it left open for
 * us. fanout opens ends of its own (for a pipe, through /proc/self/fd), and
 * passes the parent's jobserver on to its commands unchanged.
 */
export class InheritedPipe {
  private readonly reader: number;
  private readonly writer: number;
  private pipeChild?: ChildJobserver;

  /** Throws, saying why, when the auth names nothing usable. */
  constructor(readonly auth: JobserverAuth) {
    if (auth.style === "pipe") checkInherited(auth.read, auth.write);
    const path = auth.style === "fifo" ? auth.path : `/proc/self/fd/${auth.read}`;
    const writePath = auth.style === "fifo" ? auth.path : `/proc/self/fd/${auth.write}`;
    if (auth.style === "fifo" && !isFifo(path)) throw new Error(`${path} is not a fifo`);
    this.reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    this.writer = openSync(writePath, constants.O_WRONLY | constants.O_NONBLOCK);
  }

  take(): number | undefined {
    return readToken(this.reader);
  }

  put(token: number): void {
    writeTokens(this.writer, Uint8Array.of(token));
  }

  child(style: "pipe" | "fifo"): ChildJobserver {
    const { auth } = this;
    if (style === "fifo") {
      // A parent's pipe has no name of its own: its path through fanout's /proc entry (Linux).
      return { fds: [], auth: { style: "fifo", path: auth.style === "fifo" ? auth.path : `/proc/${process.pid}/fd/${auth.read}` } };
    }
    if (auth.style === "pipe") return pipeForm(auth.read, auth.write);
    return (this.pipeChild ??= pipeForm(openSync(auth.path, constants.O_RDONLY), openSync(auth.path, constants.O_WRONLY)));
  }

  close(): void {
    closeSync(this.reader);
    closeSync(this.writer);
    if (this.pipeChild && this.auth.style === "fifo") for (const fd of this.pipeChild.fds) closeSync(fd);
  }
}

function isFifo(path: string): boolean {
  try {
    return fstatFifo(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
  } catch {
    return false;
  }
}

function fstatFifo(fd: number): boolean {
  try {
    return fstatSync(fd).isFIFO();
  } finally {
    closeSync(fd);
  }
}

/**
 * Descriptors named in MAKEFLAGS are trusted only if they are what a parent
 * make leaves open for a recursive make: the two ends of one pipe, the first
 * readable, the second writable. A make that does not pass its jobserver (a
 * recipe line not marked `+`) closes them, and the runtime's own descriptors
 * then sit at those numbers: an epoll and an eventfd under Bun and Deno,
 * never the two ends of one pipe. (Close-on-exec says nothing here: Bun sets
 * it on the descriptors it inherits.)
 */
function checkInherited(read: number, write: number): void {
  const r = describeFd(read);
  const w = describeFd(write);
  const hint = "(the parent did not pass its jobserver: is the recipe line marked '+'?)";
  if (!r || !w) throw new Error(`descriptors ${read} and ${write} are not open ${hint}`);
  if (!r.fifo || !w.fifo || r.ino !== w.ino) throw new Error(`descriptors ${read} and ${write} are not the two ends of one pipe ${hint}`);
  if (r.access === 1 || w.access === 0) throw new Error(`descriptor ${read} is not readable or ${write} not writable`);
}

/** O_ACCMODE of the descriptor's flags: 0 read, 1 write, 2 both. */
function describeFd(fd: number): { fifo: boolean; ino: number; access: number } | undefined {
  let stat;
  try {
    stat = fstatSync(fd);
  } catch {
    return undefined;
  }
  let access = 2;
  try {
    const line = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8").split("\n").find((l) => l.startsWith("flags:"));
    if (line) access = parseInt(line.slice(6).trim(), 8) & 3;
  } catch {
    // No /proc (not Linux): trust fstat alone.
  }
  return { fifo: stat.isFIFO(), ino: stat.ino, access };
}
