import type { Guard, GuardKind } from "./guard.ts";

/**
 * A counting semaphore that never waits: host locks, the global lock and the
 * CPU, I/O and memory pools are all one of these with different capacities.
 * An exclusive lock is a semaphore of capacity 1 (ninja's console pool).
 *
 * Holders may bring their own, stricter limit (two tasks sharing a host lock
 * declare limit 2 and limit 1): an acquisition with limit L succeeds only if
 * the holders, itself included, would be at most L and at most the limit of
 * every current holder. So each declaration holds for as long as one of its
 * instances runs, and the strictest one present always wins.
 */
export class Semaphore implements Guard {
  private inUse = 0;
  private cap: number;
  /** Units held under each limit below the capacity: the strictest present bounds everyone. */
  private readonly heldUnder = new Map<number, number>();
  private strictestHeld = Infinity;

  constructor(readonly name: string, readonly kind: GuardKind, capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`Semaphore ${name}: capacity must be >= 1, got ${capacity}`);
    this.cap = capacity;
  }

  /** The most that can ever be held at once: the widest limit declared. */
  get capacity(): number {
    return this.cap;
  }

  get held(): number {
    return this.inUse;
  }

  /** Widens the capacity to `limit` when a declaration allows more (before any holder exists). */
  declare(limit: number): void {
    if (!(limit >= 1)) throw new RangeError(`Semaphore ${this.name}: limit must be >= 1, got ${limit}`);
    if (limit > this.cap) this.cap = limit;
  }

  private bound(limit: number | undefined): number {
    return Math.min(limit ?? this.cap, this.cap, this.strictestHeld);
  }

  tryAcquire(amount: number, _now?: number, limit?: number): boolean {
    if (this.inUse + amount > this.bound(limit)) return false;
    this.inUse += amount;
    if (limit !== undefined && limit < this.cap) {
      this.heldUnder.set(limit, (this.heldUnder.get(limit) ?? 0) + amount);
      if (limit < this.strictestHeld) this.strictestHeld = limit;
    }
    return true;
  }

  release(amount: number, _now?: number, limit?: number): void {
    if (amount > this.inUse) throw new Error(`Internal error: ${this.name} released ${amount} but holds ${this.inUse}`);
    this.inUse -= amount;
    if (limit !== undefined && limit < this.cap) {
      const left = (this.heldUnder.get(limit) ?? 0) - amount;
      if (left < 0) throw new Error(`Internal error: ${this.name} released ${amount} under limit ${limit} but holds ${left + amount}`);
      if (left > 0) this.heldUnder.set(limit, left);
      else {
        this.heldUnder.delete(limit);
        if (limit === this.strictestHeld) this.strictestHeld = Math.min(Infinity, ...this.heldUnder.keys());
      }
    }
  }

  available(_now?: number, limit?: number): number {
    return Math.max(0, this.bound(limit) - this.inUse);
  }

  readyAt(amount: number, now: number, limit?: number): number {
    return this.inUse + amount <= this.bound(limit) ? now : Infinity;
  }
}
