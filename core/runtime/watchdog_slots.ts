/**
 * The watchdog's list of live process groups, kept in an unlinked file in
 * shared memory (/dev/shm, a tmpfs) that fanout and its watchdog both hold
 * open. Each group has a slot of one fixed-width line, written in place
 * (pwrite): `+0000012345\n` while the group may have processes, then
 * `-0000012345\n` once it is gone, after which the slot is reused. The file
 * is as long as the most groups ever alive at once.
 *
 * Why a file and not the pipe: a line written to the pipe wakes the
 * watchdog, and on a 2-core machine that wake-up cost fanout about 0.2 ms
 * per process, 5–6% of a run of 1,000 `true` (docs/benchmarks.md). A write
 * to tmpfs wakes nobody; the watchdog reads the file once, when its pipe
 * closes. A write is in the page cache when pwrite returns, so a group is
 * listed before the caller goes on, and fanout dying right after loses
 * nothing.
 */
import { closeSync, openSync, unlinkSync, writeSync } from "node:fs";
import process from "node:process";

/** `+` or `-`, ten digits (pid_max is at most 4,194,304), a newline. */
const SLOT_BYTES = 12;

export class GroupSlots {
  /** pgid → its slot, for the groups listed here. */
  private readonly slots = new Map<number, number>();
  /** Slots whose group is gone, to reuse before the file grows. */
  private readonly free: number[] = [];
  private used = 0;
  /** One slot's bytes, filled for each write. */
  private readonly bytes = new Uint8Array(SLOT_BYTES);

  private constructor(readonly fd: number) {}

  /**
   * An empty list in a new file under `dir`, already unlinked: nothing is
   * left in /dev/shm whatever happens to fanout or the watchdog. Null when
   * it cannot be made there (no such directory, read-only, full).
   */
  static create(dir: string): GroupSlots | null {
    // A plain loop: Array.from is a builtin JavaScriptCore compiles at its first call, which a run need not pay for.
    let random = "";
    for (const b of crypto.getRandomValues(new Uint8Array(8))) random += b.toString(16).padStart(2, "0");
    const path = `${dir}/fanout-watchdog-${process.pid}-${random}`;
    let fd: number;
    try {
      fd = openSync(path, "wx+", 0o600); // O_EXCL: never a file someone else put there
    } catch {
      return null;
    }
    try {
      unlinkSync(path);
    } catch {
      closeSync(fd);
      return null;
    }
    return new GroupSlots(fd);
  }

  /** Lists a group; false when the file could not take it (the caller lists it another way). */
  add(pgid: number): boolean {
    const slot = this.free.pop() ?? this.used;
    try {
      this.write("+", pgid, slot);
    } catch {
      if (slot !== this.used) this.free.push(slot);
      return false;
    }
    if (slot === this.used) this.used++;
    this.slots.set(pgid, slot);
    return true;
  }

  /** Unlists a group listed here; false when it was not listed here. */
  remove(pgid: number): boolean {
    const slot = this.slots.get(pgid);
    if (slot === undefined) return false;
    this.slots.delete(pgid);
    try {
      // In place, in a page the file already has: tmpfs needs no new space for it.
      this.write("-", pgid, slot);
      this.free.push(slot);
    } catch {
      // The slot keeps its `+` line and is never reused; should fanout die
      // later, the watchdog signals a group that has gone (as the pipe's
      // batched unlistings allowed for a moment).
    }
    return true;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** The slot's line, in place. From a buffer: Deno's writeSync ignores the position given with a string. */
  private write(sign: "+" | "-", pgid: number, slot: number): void {
    const b = this.bytes;
    b[0] = sign === "+" ? PLUS : MINUS;
    for (let i = SLOT_BYTES - 2, n = pgid; i >= 1; i--, n = Math.floor(n / 10)) b[i] = ZERO + (n % 10);
    b[SLOT_BYTES - 1] = NEWLINE;
    writeSync(this.fd, b, 0, SLOT_BYTES, slot * SLOT_BYTES);
  }
}

const PLUS = 0x2b;
const MINUS = 0x2d;
const ZERO = 0x30;
const NEWLINE = 0x0a;
