import type { Guard } from "./guard.ts";

/** A jobserver's tokens as this guard sees them (core/runtime/jobserver_pipe.ts): one token, one free slot. */
export interface TokenPool {
  /** One token if there is one now; never waits. */
  take(): number | undefined;
  /** Gives a token back, as the byte it was taken as. */
  put(token: number): void;
  /**
   * Only for a pool this run serves: takes every token out and puts `count`
   * back; returns how many there were.
   */
  reset?(count: number): number;
}

/** How often the pipe is looked at while an instance waits for a token a command holds. */
export const JOBSERVER_POLL_MS = 10;

/**
 * The fork budget shared with make: every instance takes one slot of it, and
 * the commands it runs (make, ninja, cargo) take their extra jobs' tokens
 * from the same pipe. So the free slots ARE the tokens in the pipe: when make
 * takes one, fanout sees one fewer; fanout starts an instance only by taking
 * one out (never waiting), and gives it back when the instance's processes
 * are gone.
 *
 * Serving (pool = fanout's own fifo, `implicit` false): the pipe starts with
 * `capacity` tokens. A make that is killed may take its tokens with it; so
 * each time a release leaves no instance running (`idle`: every command of
 * the run is gone) the pipe is reset to every slot not held (only a stuck
 * instance, one whose module never returned, still holds one then).
 *
 * Using a parent's jobserver (`implicit` true): fanout holds its own slot,
 * as every make does (the one its parent started it with); its first
 * instance runs on it, the others on tokens taken from the parent's pipe. When
 * nothing runs, the implicit slot is free: the run always makes progress.
 *
 * Room that a command gives back is not announced: readyAt asks the
 * scheduler's one timer to look again every JOBSERVER_POLL_MS while an
 * instance waits (a non-blocking read each time, never a thread blocked in a
 * read that could not be cancelled). Releases of the run itself wake at once.
 *
 * `available` has to be exact (the scheduler wakes a waiter only on room),
 * and a pipe cannot be counted without reading it: so it takes a token out
 * when it has none at hand (unless the run's instances hold every slot: then
 * the pipe is empty), and a token no instance took by the end of the
 * current turn goes back to the pipe. A released token waits at hand the
 * same way, so the instance the scheduler starts in its place takes it
 * without a write and a read of the pipe (1,000 × `true`, 8 at once: 6%
 * faster, docs/benchmarks.md).
 */
export class JobserverGuard implements Guard {
  readonly name = "jobserver";
  readonly kind = "forks" as const;
  private implicitHeld = false;
  /** Tokens taken for running instances, given back last-in first-out. */
  private readonly held: number[] = [];
  /** Tokens taken by `available` and not yet given to an instance. */
  private readonly atHand: number[] = [];
  private returning = false;
  /** Tokens made again by resets: taken by commands that never gave them back. */
  recovered = 0;

  /** `idle`: no instance of the run is running (GuardSet.idle); by default, when none holds a slot. */
  constructor(readonly capacity: number, private readonly pool: TokenPool, private readonly implicit: boolean, private readonly idle = () => false) {
    if (!(capacity >= 1)) throw new RangeError(`JobserverGuard: capacity must be >= 1, got ${capacity}`);
  }

  /** Slots held by running instances. */
  get inUse(): number {
    return this.held.length + (this.implicitHeld ? 1 : 0);
  }

  tryAcquire(amount: number): boolean {
    if (amount !== 1) throw new Error(`Internal error: ${this.name} takes one slot at a time, asked for ${amount}`);
    if (this.implicit && !this.implicitHeld) {
      this.implicitHeld = true;
      return true;
    }
    // Every slot held: nothing to read (see available), and never more than capacity at once.
    if (this.inUse >= this.capacity) return false;
    const token = this.atHand.pop() ?? this.pool.take();
    if (token === undefined) return false;
    this.held.push(token);
    return true;
  }

  release(amount: number): void {
    if (amount !== 1) throw new Error(`Internal error: ${this.name} gives back one slot at a time, got ${amount}`);
    const token = this.held.pop();
    if (token !== undefined) {
      // Kept at hand for this turn: the instance that starts next in it
      // takes it with no write and read of the pipe; otherwise it goes back.
      this.atHand.push(token);
      this.returnAtHandLater();
    } else if (this.implicitHeld) this.implicitHeld = false;
    else throw new Error(`Internal error: ${this.name} released a slot it does not hold`);
    if (this.pool.reset && (this.inUse === 0 || this.idle())) this.resetPool(this.pool.reset.bind(this.pool));
  }

  available(): number {
    const implicitFree = this.implicit && !this.implicitHeld ? 1 : 0;
    // With every slot held by the run's instances the pipe holds no token
    // (each is in it, with a command or with us: `capacity` in all), so it is
    // not read: an empty read costs a thrown EAGAIN.
    if (implicitFree + this.atHand.length === 0 && this.inUse < this.capacity) {
      const token = this.pool.take();
      if (token !== undefined) {
        this.atHand.push(token);
        this.returnAtHandLater();
      }
    }
    return implicitFree + this.atHand.length;
  }

  readyAt(_amount: number, now: number): number {
    return this.available() >= 1 ? now : now + JOBSERVER_POLL_MS;
  }

  /** Gives back every token of the run's (at the end of the run: instances that never returned keep theirs until then). */
  releaseAll(): void {
    for (const token of this.atHand.splice(0)) this.pool.put(token);
    for (const token of this.held.splice(0)) this.pool.put(token);
    this.implicitHeld = false;
  }

  /** No command of the run is alive: the pipe gets every slot not held again; what was missing had leaked. */
  private resetPool(reset: (count: number) => number): void {
    // Tokens at hand are ours, not lost: the reset puts them back with the others.
    const inHand = this.atHand.splice(0).length;
    const free = this.capacity - this.inUse;
    const was = reset(free) + inHand;
    if (was < free) this.recovered += free - was;
  }

  /** Tokens at hand that no instance took in this turn of the loop go back to the pipe, for the commands. */
  private returnAtHandLater(): void {
    if (this.returning) return;
    this.returning = true;
    queueMicrotask(() => {
      this.returning = false;
      for (const token of this.atHand.splice(0)) this.pool.put(token);
    });
  }
}
