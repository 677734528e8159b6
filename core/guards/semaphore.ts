import type { Guard, GuardKind } from "./guard.ts";

/**
 * A counting semaphore that never waits: host locks, the global lock and the
 * CPU, I/O and memory pools are all one of these with different capacities.
 * An exclusive lock is a semaphore of capacity 1 (ninja's console pool).
 */
export class Semaphore implements Guard {
  private inUse = 0;

  constructor(readonly name: string, readonly kind: GuardKind, readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`Semaphore ${name}: capacity must be >= 1, got ${capacity}`);
  }

  get held(): number {
    return this.inUse;
  }

  tryAcquire(amount: number, _now?: number): boolean {
    if (this.inUse + amount > this.capacity) return false;
    this.inUse += amount;
    return true;
  }

  release(amount: number, _now?: number): void {
    if (amount > this.inUse) throw new Error(`Internal error: ${this.name} released ${amount} but holds ${this.inUse}`);
    this.inUse -= amount;
  }

  available(_now?: number): number {
    return this.capacity - this.inUse;
  }

  readyAt(amount: number, now: number): number {
    return this.inUse + amount <= this.capacity ? now : Infinity;
  }
}
