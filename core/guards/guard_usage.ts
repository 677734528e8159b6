import { percentiles, round, Samples } from "../stats.ts";
import type { GuardSummary } from "../telemetry/events.ts";
import type { Guard } from "./guard.ts";

/**
 * What happened to one guard during a run: how often it was taken, how long
 * instances waited for it, how long its queue got and how busy it was.
 */
export class GuardUsage {
  acquisitions = 0;
  maxQueue = 0;
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
    // Bucket tokens are consumed, not held: their busy share is counted from acquisitions.
    if (this.guard.kind !== "bucket") this.held += amount;
  }

  released(amount: number, now: number): void {
    this.advance(now);
    if (this.guard.kind !== "bucket") this.held -= amount;
  }

  queued(length: number): void {
    if (length > this.maxQueue) this.maxQueue = length;
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
