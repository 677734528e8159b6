/**
 * The one interface every guard implements. The scheduler only ever calls
 * these methods, so a backend shared by many runners (e.g. Redis with
 * leases) can stand in for the in-memory guards without touching it: such a
 * backend keeps a locally leased share, answers tryAcquire from it, and calls
 * GuardSet.roomAppeared(guard) when its share grows.
 *
 * Acquisition never waits. A refused instance is parked by the scheduler and
 * woken when `available` says there is room again (after a release) or at
 * `readyAt` (after a refill, for time-based guards).
 */
export type GuardKind = "forks" | "host" | "global" | "bucket" | "cpu" | "io" | "mem" | "group";

export interface Guard {
  /** Stable identity, also its name in telemetry: "host:web1", "bucket:http", "cpu". */
  readonly name: string;
  readonly kind: GuardKind;
  /** The most that can ever be held at once (a bucket's burst). */
  readonly capacity: number;
  /**
   * Room can appear without any release by this run (a lease from a backend
   * shared with other runners): when nothing else is left to do, the run
   * waits for it instead of calling its waiters unreachable.
   */
  readonly external?: boolean;
  /**
   * Takes `amount` if it fits right now; never waits. `limit`, when given, is
   * the holder's own limit, stricter than the capacity (see Semaphore): the
   * take must respect it and every current holder's.
   */
  tryAcquire(amount: number, now: number, limit?: number): boolean;
  /** Gives back what tryAcquire took, with the same limit. Consumed tokens (buckets) ignore it. */
  release(amount: number, now: number, limit?: number): void;
  /** How much could be taken right now (under `limit`). */
  available(now: number, limit?: number): number;
  /**
   * The earliest time at which `amount` could be taken without any release
   * (a bucket's refill, a memory poll), or Infinity when only a release helps.
   */
  readyAt(amount: number, now: number, limit?: number): number;
  /**
   * Told how many instances are parked on it whenever that changes: what a
   * shared guard leases room for (and no more).
   */
  parked?(count: number): void;
}

/** A guard, how much of it an instance needs, and the instance's own limit on it, if stricter. */
export interface GuardRequest {
  guard: Guard;
  amount: number;
  limit?: number;
}
