/**
 * Every guard of a run, created on first use and looked up by name. The
 * scheduler asks it for all of an instance's guards at once (all or nothing,
 * in a fixed order) and never holds one while waiting for another, so guards
 * cannot deadlock.
 */
import type { Guard, GuardRequest } from "./guard.ts";
import { Semaphore } from "./semaphore.ts";
import { TokenBucket } from "./token_bucket.ts";

export interface PoolSizes {
  cpu: number;
  /** The I/O pools, one per storage device; the first is the default ("io"). */
  io: IoPoolSize[];
  /** Bytes of declared `mem` admitted at once; undefined = no budget. */
  memBudget?: number;
}

export interface IoPoolSize {
  name: string;
  capacity: number;
  /** I/O tokens a sequential reader takes per declared token (see machine.ts). */
  sequentialIoWeight: number;
}

/** What guards may ask of the scheduler that uses them. */
export interface SchedulerHooks {
  /** Look again at the instances waiting for `guard`. */
  wake(guard: Guard): void;
  /** Whether no instance is running. */
  idle(): boolean;
}

export class GuardSet {
  private readonly guards = new Map<string, Guard>();
  /** Differences between a guard's first declaration and a later one, reported once each. */
  readonly conflicts: string[] = [];
  readonly cpu: Semaphore;
  /** I/O pools by name, with the weight a sequential reader pays in each. */
  readonly io = new Map<string, { guard: Semaphore; sequentialIoWeight: number }>();
  readonly mem: Semaphore | undefined;
  /** Admission by free memory (--mem-free), set by the run when asked for. */
  memFree: Guard | undefined;

  constructor(readonly sizes: PoolSizes) {
    this.cpu = this.add(new Semaphore("cpu", "cpu", sizes.cpu));
    for (const pool of sizes.io) {
      this.io.set(pool.name, { guard: this.add(new Semaphore(pool.name, "io", pool.capacity)), sequentialIoWeight: pool.sequentialIoWeight });
    }
    this.mem = sizes.memBudget !== undefined ? this.add(new Semaphore("mem", "mem", Math.max(1, sizes.memBudget))) : undefined;
  }

  /** Registers a guard (e.g. a remote or memory-pressure guard) under its name. */
  add<G extends Guard>(guard: G): G {
    this.guards.set(guard.name, guard);
    return guard;
  }

  get(name: string): Guard | undefined {
    return this.guards.get(name);
  }

  all(): Guard[] {
    return [...this.guards.values()];
  }

  /** At most `limit` at once per key ("host:web1"). */
  keyed(key: string, limit: number): Guard {
    return this.getOrCreate(`host:${key}`, () => new Semaphore(`host:${key}`, "host", limit), limit);
  }

  /** One at a time among the group ("global:default"). */
  global(group: string): Guard {
    return this.getOrCreate(`global:${group}`, () => new Semaphore(`global:${group}`, "global", 1), 1);
  }

  /** A token bucket ("bucket:http"). */
  bucket(key: string, perSecond: number, burst: number): Guard {
    const name = `bucket:${key}`;
    const existing = this.guards.get(name) as TokenBucket | undefined;
    if (existing && existing.perSecond !== perSecond) {
      this.conflict(`${name} is declared with per_second ${existing.perSecond} and ${perSecond}; using ${existing.perSecond}`);
    }
    return this.getOrCreate(name, () => new TokenBucket(name, perSecond, burst), burst);
  }

  private getOrCreate(name: string, make: () => Guard, capacity: number): Guard {
    const existing = this.guards.get(name);
    if (existing) {
      if (existing.capacity !== capacity) {
        this.conflict(`${name} is declared with capacity ${existing.capacity} and ${capacity}; using ${existing.capacity}`);
      }
      return existing;
    }
    return this.add(make());
  }

  private hooks: SchedulerHooks | undefined;

  /** Called by the scheduler that uses this set: how guards reach it. */
  attach(hooks: SchedulerHooks): void {
    this.hooks = hooks;
  }

  /** True while no instance runs (before a scheduler is attached, too). */
  idle(): boolean {
    return this.hooks?.idle() ?? true;
  }

  /**
   * For guards whose room can grow without a release or a refill the
   * scheduler knows of (a lease granted by a shared backend, memory freed by
   * another program): wakes the instances waiting for `guard`. Safe to call
   * from any callback; the scheduler looks on its next turn.
   */
  roomAppeared(guard: Guard): void {
    const hooks = this.hooks;
    if (hooks) queueMicrotask(() => hooks.wake(guard));
  }

  private conflict(message: string): void {
    if (!this.conflicts.includes(message)) this.conflicts.push(message);
  }
}

/**
 * Takes every request or none. All are checked first and only then taken, so
 * a refusal never costs a token bucket a token it would have had to give back.
 * Returns the first refusing guard, or undefined when all were taken.
 */
export function tryAcquireAll(requests: readonly GuardRequest[], now: number): Guard | undefined {
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    if (r.guard.available(now) < r.amount) return r.guard;
  }
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    if (!r.guard.tryAcquire(r.amount, now)) {
      // Only a guard shared with other processes can change between the check and the take.
      for (let j = 0; j < i; j++) requests[j]!.guard.release(requests[j]!.amount, now);
      return r.guard;
    }
  }
  return undefined;
}

export function releaseAll(requests: readonly GuardRequest[], now: number): void {
  for (const r of requests) r.guard.release(r.amount, now);
}
