import { percentiles, round, Samples } from "../stats.ts";
import type { GuardSummary } from "../telemetry/events.ts";
import type { Guard, GuardKind } from "./guard.ts";

/** How many of the latest waits a live view's percentiles cover: what the guard is like now, cheap to sort. */
const RECENT_WAITS = 256;

/** One guard's state at a moment, for a live view (the dashboard); read-only. */
export interface GuardLive {
  name: string;
  kind: GuardKind;
  capacity: number;
  /** Held now (for a bucket: tokens spent from its burst). */
  inUse: number;
  /** Instances waiting for it now. */
  queue: number;
  acquisitions: number;
  /** Every wait for it so far, added up. */
  waitedMs: number;
  /** Over its latest acquisitions (up to RECENT_WAITS). */
  waitP50: number;
  waitP95: number;
}

/**
 * What happened to one guard during a run: how often it was taken, how long
 * instances waited for it, how long its queue got and how busy it was.
 */
export class GuardUsage {
  acquisitions = 0;
  maxQueue = 0;
  /** Instances waiting for it now. */
  queue = 0;
  private waitedMs = 0;
  /** recentWaits() as of `acquisitions` then: a live view asks often, and most guards have not changed since. */
  private recent: { at: number; p50: number; p95: number } | undefined;
  readonly waits = new Samples();
  private held = 0;
  private busyArea = 0;
  private lastChange: number;

  constructor(readonly guard: Guard, startedAt: number) {
    this.lastChange = startedAt;
  }

  private advance(now: number): void {
    this.busyArea += this.held * (now - this.lastChange);
    this.lastChange = now;
  }

  acquired(amount: number, waitedMs: number, now: number): void {
    this.advance(now);
    this.acquisitions++;
    this.waits.push(waitedMs);
    this.waitedMs += waitedMs;
    // Bucket tokens are consumed, not held: their busy share is counted from acquisitions.
    if (this.guard.kind !== "bucket") this.held += amount;
  }

  released(amount: number, now: number): void {
    this.advance(now);
    if (this.guard.kind !== "bucket") this.held -= amount;
  }

  queued(length: number): void {
    this.queue = length;
    if (length > this.maxQueue) this.maxQueue = length;
  }

  live(now: number): GuardLive {
    const guard = this.guard;
    const inUse = guard.kind === "bucket" ? Math.max(0, guard.capacity - Math.floor(guard.available(now))) : this.held;
    const recent = this.recentWaits();
    return {
      name: guard.name,
      kind: guard.kind,
      capacity: guard.capacity,
      inUse,
      queue: this.queue,
      acquisitions: this.acquisitions,
      waitedMs: round(this.waitedMs),
      waitP50: recent.p50,
      waitP95: recent.p95,
    };
  }

  private recentWaits(): { p50: number; p95: number } {
    if (this.recent?.at !== this.acquisitions) {
      const all = this.waits.view();
      const { p50, p95 } = percentiles(all.subarray(Math.max(0, all.length - RECENT_WAITS)));
      this.recent = { at: this.acquisitions, p50, p95 };
    }
    return this.recent;
  }

  summary(startedAt: number, endedAt: number): GuardSummary {
    this.advance(endedAt);
    const span = Math.max(endedAt - startedAt, 1e-9);
    const guard = this.guard;
    let busy: number;
    if (guard.kind === "bucket") {
      const b = guard as Guard & { perSecond?: number };
      const possible = guard.capacity + (b.perSecond ?? 0) * span / 1000;
      busy = possible > 0 ? this.acquisitions / possible : 0;
    } else {
      busy = this.busyArea / (guard.capacity * span);
    }
    return {
      kind: guard.kind,
      capacity: guard.capacity,
      acquisitions: this.acquisitions,
      wait_ms: percentiles(this.waits.view()),
      max_queue: this.maxQueue,
      busy_fraction: round(Math.min(1, busy)),
    };
  }
}
