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

/**
 * Where host locks, global locks and token buckets live when not in this
 * process (core/guards/remote/: Redis, shared by every runner using it). Set
 * as GuardSet.backend before any guard is declared.
 */
export interface GuardBackend {
  /** A lock of `capacity` holders at once. */
  lock(name: string, kind: "host" | "global", capacity: number): LockGuard;
  bucket(name: string, perSecond: number, burst: number): BucketGuard;
}

/** A lock declared again (`declare`) with each limit a task gives it (see Semaphore). */
export type LockGuard = Guard & { declare(limit: number): void };

/** A token bucket declared again (`tighten`) with each rate a task gives it: the strictest holds. */
export type BucketGuard = Guard & { readonly perSecond: number; readonly burst: number; tighten(perSecond: number, burst: number): void };

/** What guards may ask of the scheduler that uses them. */
export interface SchedulerHooks {
  /** Look again at the instances waiting for `guard`. */
  wake(guard: Guard): void;
  /** Whether no instance is running. */
  idle(): boolean;
}

export class GuardSet {
  private readonly guards = new Map<string, Guard>();
  readonly cpu: Semaphore;
  /** I/O pools by name, with the weight a sequential reader pays in each. */
  readonly io = new Map<string, { guard: Semaphore; sequentialIoWeight: number }>();
  readonly mem: Semaphore | undefined;
  /** Admission by free memory (--mem-free), set by the run when asked for. */
  memFree: Guard | undefined;
  /** The fork budget shared with make through the jobserver (core/jobserver.ts), set by the run when there is one. */
  jobserver: Guard | undefined;
  /** Set before the first guard is declared to keep locks and buckets elsewhere; undefined: in this process. */
  backend: GuardBackend | undefined;
  /** An ssh host's own CPU and I/O pools, by host name; local hosts share the pools above. */
  private readonly hostPools = new Map<string, { cpu: Semaphore; io: { guard: Semaphore; sequentialIoWeight: number } }>();

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

  /**
   * Gives a host CPU and I/O pools of its own (an ssh host: its cores, its
   * disk), named "cpu:HOST" and the I/O pool's own name.
   */
  addHostPools(host: string, sizes: { cpu: number; io: IoPoolSize }): void {
    if (this.hostPools.has(host)) throw new Error(`Internal error: pools for host ${host} added twice`);
    const cpu = this.add(new Semaphore(`cpu:${host}`, "cpu", sizes.cpu));
    const io = { guard: this.add(new Semaphore(sizes.io.name, "io", sizes.io.capacity)), sequentialIoWeight: sizes.io.sequentialIoWeight };
    this.hostPools.set(host, { cpu, io });
  }

  /** The CPU pool of instances on `host`. */
  cpuFor(host: string): Semaphore {
    return this.hostPools.get(host)?.cpu ?? this.cpu;
  }

  /** The I/O pool of instances on `host`; `localPool` names the one a local host uses. */
  ioFor(host: string, localPool: string): { guard: Semaphore; sequentialIoWeight: number } | undefined {
    return this.hostPools.get(host)?.io ?? this.io.get(localPool);
  }

  get(name: string): Guard | undefined {
    return this.guards.get(name);
  }

  all(): Guard[] {
    return [...this.guards.values()];
  }

  /**
   * The lock for a key ("host:web1"), wide enough for `limit`. Each holder
   * passes its own limit when it acquires (GuardRequest.limit), so declarations
   * with different limits under one key each hold (see Semaphore).
   */
  keyed(key: string, limit: number): Guard {
    const name = `host:${key}`;
    const existing = this.guards.get(name);
    if (existing) {
      // A guard registered under this name from outside (a test's) may size itself.
      if ("declare" in existing) (existing as LockGuard).declare(limit);
      return existing;
    }
    return this.add(this.backend ? this.backend.lock(name, "host", limit) : new Semaphore(name, "host", limit));
  }

  /** One at a time among the group ("global:default"). */
  global(group: string): Guard {
    const name = `global:${group}`;
    return this.guards.get(name) ?? this.add(this.backend ? this.backend.lock(name, "global", 1) : new Semaphore(name, "global", 1));
  }

  /** The `limit:` of a `parallel:` group ("group:builds"): at most `limit` of its instances at once. */
  group(name: string, limit: number): Guard {
    const key = `group:${name}`;
    return this.guards.get(key) ?? this.add(new Semaphore(key, "group", limit));
  }

  /**
   * A token bucket ("bucket:http"). Declared again with another rate, it
   * keeps the lowest per_second and the lowest burst of all declarations:
   * the strictest quota wins. Declare every bucket before the run starts.
   */
  bucket(key: string, perSecond: number, burst: number): BucketGuard {
    const name = `bucket:${key}`;
    const existing = this.guards.get(name) as BucketGuard | undefined;
    if (!existing) return this.add(this.backend ? this.backend.bucket(name, perSecond, burst) : new TokenBucket(name, perSecond, burst));
    existing.tighten(perSecond, burst);
    return existing;
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
}

/**
 * Takes every request or none. All are checked first and only then taken, so
 * a refusal never costs a token bucket a token it would have had to give back.
 * Returns the first refusing guard, or undefined when all were taken.
 */
export function tryAcquireAll(requests: readonly GuardRequest[], now: number): Guard | undefined {
  // Local guards first: an instance parks on a shared guard (which then asks
  // its backend for room) only once every local guard of it has room.
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    if (!r.guard.external && r.guard.available(now, r.limit) < r.amount) return r.guard;
  }
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    if (r.guard.external && r.guard.available(now, r.limit) < r.amount) return r.guard;
  }
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    if (!r.guard.tryAcquire(r.amount, now, r.limit)) {
      // Only a guard shared with other processes can change between the check and the take.
      for (let j = 0; j < i; j++) requests[j]!.guard.release(requests[j]!.amount, now, requests[j]!.limit);
      return r.guard;
    }
  }
  return undefined;
}

export function releaseAll(requests: readonly GuardRequest[], now: number): void {
  for (const r of requests) r.guard.release(r.amount, now, r.limit);
}
