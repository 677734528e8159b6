/**
 * fanout's stdout and stderr as plain file descriptors, written with
 * node:fs: setting up Bun's process.stdout or process.stderr costs about as
 * much as starting the whole runtime, which a one-task plan or `--version`
 * would pay on every run.
 *
 * Writes leave in the order they were made, one fs.write at a time; what
 * is written meanwhile waits, joined, for the next one. fs.write does not
 * block the event loop, so a slow reader (`| less`) slows only the output.
 * A descriptor set non-blocking by whoever shares it can refuse a write
 * (EAGAIN): that write and every later one then go to the runtime's own
 * stream (`fallback`), which waits for the descriptor to take more.
 *
 * A regular file or /dev/null never makes a writer wait for a reader, so
 * there the write is made at once (writeSync) and its callback runs as a
 * microtask: no trip through the runtime's thread pool, which costs a
 * `--json > events.ndjson` run about as much as writing its events. A pipe
 * or a terminal holds at least a page (4 KiB) that nobody has read yet, so
 * the first 4 KiB written to them are made at once too: `fanout --version |
 * cat`, the start of `--json | jq`, a CI log, never start the thread pool
 * for a few lines (about 4 ms of a short run here). From the write that
 * would pass 4 KiB on, writes there are asynchronous. fd 1 and fd 2 share
 * the 4 KiB, since `2>&1` makes them one pipe.
 */
import { Buffer } from "node:buffer";
import { fstatSync, write as fsWrite, writeSync } from "node:fs";
import type { Stream } from "./guarded_output.ts";

type Callback = (error?: Error | null) => void;

/** The runtime's own stream (process.stdout), which also takes bytes. */
export interface ByteStream extends Stream {
  write(data: string | Uint8Array, callback?: Callback): boolean;
}

/** node:fs write's shape, replaceable in tests. */
export type FdWrite = (fd: number, buffer: Uint8Array, offset: number, length: number, position: null, callback: (error: NodeJS.ErrnoException | null, written: number) => void) => void;

/** What a pipe or a terminal takes without a reader: one page, the least a Linux pipe holds. */
const ROOM = 4096;

/** Bytes written so far to descriptors that may wait (pipes, terminals), counted against ROOM. */
export interface Room {
  used: number;
}

/** The process's: stdout and stderr may be one pipe. */
const sharedRoom: Room = { used: 0 };

export class FdStream implements Stream {
  private queued: { text: string; callback?: Callback }[] = [];
  private writing = false;
  /** handOver() was called: once the write in flight is done, the runtime's stream takes over. */
  private handing = false;
  private stream: ByteStream | undefined;
  private readonly errorListeners: ((error: Error) => void)[] = [];

  /** Whether writes to fd can never wait (a file, /dev/null); found at the first write. */
  private neverWaits?: boolean;

  constructor(private readonly fd: number, private readonly fallback: () => ByteStream, private readonly writeFd?: FdWrite, private readonly room = sharedRoom) {}

  write(text: string, callback?: Callback): boolean {
    if (this.stream) return this.stream.write(text, callback);
    this.queued.push({ text, callback });
    if (!this.writing) this.writeNext();
    return true;
  }

  /** Write errors reach each write's callback; listeners are for the fallback stream, which may also emit them. */
  on(_event: "error", listener: (error: Error) => void): this {
    if (this.stream) this.stream.on("error", listener);
    else this.errorListeners.push(listener);
    return this;
  }

  /**
   * From now on the runtime's stream writes, after what is in flight: for
   * when other code (a plugin) writes to that stream too, so that its output
   * and ours keep the order they were written in.
   */
  handOver(): void {
    this.handing = true;
    if (!this.writing) this.toFallback();
  }

  private writeNext(): void {
    if (this.handing) return this.toFallback();
    const batch = this.queued;
    if (batch.length === 0) return;
    this.queued = [];
    this.writing = true;
    this.writeAll(Buffer.from(batch.length === 1 ? batch[0]!.text : batch.map((b) => b.text).join("")), batch);
  }

  /** Writes `data` to the end (fs.write may take part of it), then calls the batch back. */
  private writeAll(data: Uint8Array, batch: { callback?: Callback }[]): void {
    this.writerFor(data.length)(this.fd, data, 0, data.length, null, (error, written) => {
      if (error?.code === "EAGAIN") return this.toFallback(data, batch);
      if (!error && written < data.length) return this.writeAll(data.subarray(written), batch);
      this.writing = false;
      for (const b of batch) b.callback?.(error);
      this.writeNext();
    });
  }

  /** At once (writeSync) where that cannot wait: a file, /dev/null, or the first 4 KiB to a pipe or a terminal. */
  private writerFor(length: number): FdWrite {
    if (this.writeFd) return this.writeFd;
    if ((this.neverWaits ??= neverWaits(this.fd))) return writeNow;
    const fits = this.room.used + length <= ROOM;
    // Once a write is asynchronous, the ones after it are too: the pipe may still hold it.
    this.room.used = fits ? this.room.used + length : Infinity;
    return fits ? writeNow : fsWrite;
  }

  /** The runtime's stream writes from now on: first what was refused (EAGAIN), then what waited, then the rest. */
  private toFallback(refused?: Uint8Array, batch: { callback?: Callback }[] = []): void {
    if (this.stream) return;
    const stream = (this.stream = this.fallback());
    for (const listener of this.errorListeners) stream.on("error", listener);
    this.writing = false;
    if (refused) {
      const callbacks = batch.map((b) => b.callback).filter((c): c is Callback => c !== undefined);
      // Bytes, not text: a partial write may have split a character.
      stream.write(refused, (error) => callbacks.forEach((c) => c(error)));
    }
    const waiting = this.queued;
    this.queued = [];
    for (const w of waiting) stream.write(w.text, w.callback);
  }
}

/** /dev/null's device number (major 1, minor 3, as Linux encodes it in st_rdev). */
const DEV_NULL = (1 << 8) | 3;

/** Whether a write to `fd` can never wait on a reader: a regular file, or /dev/null. */
function neverWaits(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFile() || (st.isCharacterDevice() && st.rdev === DEV_NULL);
  } catch {
    return false;
  }
}

/** FdWrite made at once; the callback runs as a microtask, as an asynchronous write's would run later. */
const writeNow: FdWrite = (fd, buffer, offset, length, position, callback) => {
  let written = 0;
  let failure: NodeJS.ErrnoException | null = null;
  try {
    written = writeSync(fd, buffer, offset, length, position);
  } catch (error) {
    failure = error as NodeJS.ErrnoException;
  }
  queueMicrotask(() => callback(failure, written));
};
