/**
 * Guards shared by every runner using one coordinator (issue 12): host locks,
 * global locks and token buckets live in Redis under the address's prefix;
 * CPU, I/O, memory and `parallel:` group limits stay per runner.
 *
 * `shareGuards(guards, address)` is the one entry point: it connects (a
 * CoordinatorError when the server does not answer) and makes every lock and
 * bucket `guards` declares from then on a shared one. The scheduler sees the
 * same synchronous Guard interface (remote_share.ts).
 */
import { hostname } from "node:os";
import process from "node:process";
import type { CoordinatorAddress } from "../../coordinator/connection.ts";
import { CoordinatorError, describeError } from "../../errors.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import { percentiles } from "../../stats.ts";
import type { Percentiles } from "../../telemetry/events.ts";
import type { Guard } from "../guard.ts";
import type { GuardBackend, GuardSet } from "../guard_set.ts";
import { CoordinatorLink, type Report } from "./coordinator_link.ts";
import { RemoteBucket } from "./remote_bucket.ts";
import { RemoteLock } from "./remote_lock.ts";
import type { RemoteShare, ShareContext } from "./remote_share.ts";

export const DEFAULT_LEASE_TTL_MS = 30_000;

export interface ShareOptions {
  /** A lease's life without renewal (default 30 s): how long a dead runner's locks stay taken. */
  leaseTtlMs?: number;
  clock?: Clock;
}

/** What run_end's summary adds to a shared guard's entry. */
export interface SharedGuardStats {
  remote: true;
  /** Script calls (round trips) per grant; a bucket's grant may hold several tokens. */
  round_trips: Percentiles;
  /** Lease renewals that found the lease held (locks; 0 for buckets). */
  lease_renewals: number;
  /** Leases found gone when renewed: expired, or the coordinator restarted without them. */
  leases_lost: number;
}

export class SharedGuards implements GuardBackend {
  private readonly shares: RemoteShare[] = [];
  private readonly locks: RemoteLock[] = [];
  private set: GuardSet | undefined;
  private renewTimer: unknown;
  private leaseCount = 0;
  private readonly runner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  private readonly cx: ShareContext;
  /** Told (once) when the coordinator is lost for good: start nothing more. */
  onLost: (message: string) => void = () => {};
  private lostMessage: string | undefined;

  private constructor(private readonly link: CoordinatorLink, readonly ttlMs: number, private readonly clock: Clock) {
    const pollMs = Math.min(1_000, ttlMs / 4);
    this.cx = {
      link,
      now: () => clock.now(),
      setTimer: (fn, ms) => clock.setTimer(fn, ms),
      clearTimer: (h) => clock.clearTimer(h),
      roomAppeared: (g: Guard) => this.set?.roomAppeared(g),
      newId: () => `${this.runner}:${++this.leaseCount}`,
      pollMs,
      holdMs: Math.min(100, ttlMs / 10),
      prefix: link.address.prefix,
    };
    link.onLost = (message) => {
      this.lostMessage = message;
      this.onLost(message);
    };
    link.onBack = () => {
      void this.renewAll();
      for (const share of this.shares) share.resume();
    };
    this.scheduleRenewal();
  }

  static async connect(address: CoordinatorAddress, options: ShareOptions = {}): Promise<SharedGuards> {
    const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    if (!(ttlMs >= 100)) throw new RangeError(`SharedGuards: lease TTL must be >= 100 ms, got ${ttlMs}`);
    const clock = options.clock ?? realClock;
    let link: CoordinatorLink;
    try {
      link = await CoordinatorLink.open(address, { clock, graceMs: ttlMs / 2, pollMs: Math.min(1_000, ttlMs / 4), commandTimeoutMs: Math.min(5_000, ttlMs / 3) });
    } catch (error) {
      throw new CoordinatorError(address.display, describeError(error));
    }
    return new SharedGuards(link, ttlMs, clock);
  }

  /** Where the run's log events go (lease lost, coordinator away and back). */
  set report(report: Report) {
    this.link.report = report;
  }

  /** Set when the coordinator was lost: why. */
  get lost(): string | undefined {
    return this.lostMessage;
  }

  get address(): CoordinatorAddress {
    return this.link.address;
  }

  /** From now on `guards` declares its locks and buckets here. */
  install(guards: GuardSet): void {
    const local = guards.all().filter((g) => g.kind === "host" || g.kind === "global" || g.kind === "bucket");
    if (local.length > 0) throw new Error(`Internal error: shareGuards after ${local[0]!.name} was declared in-process`);
    this.set = guards;
    guards.backend = this;
  }

  lock(name: string, kind: "host" | "global", capacity: number): RemoteLock {
    const lock = new RemoteLock(name, kind, capacity, this.cx, this.ttlMs);
    this.shares.push(lock);
    this.locks.push(lock);
    return lock;
  }

  bucket(name: string, perSecond: number, burst: number): RemoteBucket {
    const bucket = new RemoteBucket(name, perSecond, burst, this.cx);
    this.shares.push(bucket);
    return bucket;
  }

  /** Per shared guard, by name: what run_end's summary adds. */
  stats(): Record<string, SharedGuardStats> {
    const out: Record<string, SharedGuardStats> = {};
    for (const share of this.shares) {
      const lock = share instanceof RemoteLock ? share : undefined;
      out[share.name] = { remote: true, round_trips: percentiles(share.roundTrips.view()), lease_renewals: lock?.renewals ?? 0, leases_lost: lock?.lost ?? 0 };
    }
    return out;
  }

  /** Leases are renewed at a third of their TTL: two renewals may fail before one expires. */
  private scheduleRenewal(): void {
    this.renewTimer = this.clock.setTimer(() => {
      void this.renewAll().finally(() => {
        if (this.renewTimer !== undefined) this.scheduleRenewal();
      });
    }, this.ttlMs / 3);
  }

  private async renewAll(): Promise<void> {
    for (const lock of this.locks) {
      if (!this.link.usable) return;
      try {
        const { lostInUse } = await lock.renew();
        if (lostInUse > 0) {
          this.link.report("warn", `${lock.name}: ${lostInUse} lease(s) held by running instances were lost (expired, or the coordinator ${this.link.address.display} restarted): other runners may take ${lock.name} while they run`);
        }
      } catch {
        // The link is down: it says so, and renews again when it answers.
      }
    }
  }

  /** Gives back every lease and token still held, and closes the connections. */
  async close(): Promise<void> {
    if (this.renewTimer !== undefined) this.clock.clearTimer(this.renewTimer);
    this.renewTimer = undefined;
    await Promise.all(this.shares.map((s) => s.drain()));
    await this.link.close();
  }
}

/**
 * Connects to the coordinator and makes the locks and buckets `guards`
 * declares from now on shared through it. Call before any guard is declared
 * (before GuardRequests.declareAll); close() the result when the run ends.
 */
export async function shareGuards(guards: GuardSet, address: CoordinatorAddress, options: ShareOptions = {}): Promise<SharedGuards> {
  const shared = await SharedGuards.connect(address, options);
  shared.install(guards);
  return shared;
}
