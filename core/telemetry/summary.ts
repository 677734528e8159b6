/**
 * The run summary, folded from the same events every other output sees:
 * counts by status, waits, bytes. Guard figures come from the scheduler's
 * per-guard accounting (queue lengths and busy time are not in the events).
 */
import { percentiles, round, Samples } from "../stats.ts";
import type { EventSink, FanoutEvent, GuardSummary, RunSummary } from "./events.ts";

export class SummaryFolder implements EventSink {
  private counts = { total: 0, ok: 0, failed: 0, timed_out: 0, skipped: 0, cancelled: 0, cached: 0, stuck: 0, changed: 0, retries: 0, unreachable: 0 };
  /** The ssh hosts an instance found unreachable, in the order found. */
  private readonly unreachableHosts = new Set<string>();
  private readonly waits = new Samples();
  private bytes = 0;
  private warnings: string[] = [];

  write(event: FanoutEvent): void {
    switch (event.type) {
      case "run_start":
        this.warnings = event.warnings;
        break;
      case "task_start":
        this.waits.push(event.wait_ms);
        break;
      case "task_retry":
        this.counts.retries++;
        break;
      case "task_end":
        this.counts.total++;
        this.counts[event.status]++;
        if (event.changed) this.counts.changed++;
        if (event.stuck) this.counts.stuck++;
        if (event.status === "unreachable") this.unreachableHosts.add(event.host);
        this.bytes += event.bytes;
        break;
    }
  }

  summary(extra: { makespanMs: number; guards: Record<string, GuardSummary>; peakRssBytes: number; interrupted: boolean }): RunSummary {
    const seconds = extra.makespanMs / 1000;
    return {
      ...this.counts,
      unreachable_hosts: [...this.unreachableHosts],
      makespan_ms: round(extra.makespanMs),
      instances_per_s: seconds > 0 ? round(this.counts.total / seconds) : 0,
      wait_ms: percentiles(this.waits.view()),
      bytes: this.bytes,
      bytes_per_s: seconds > 0 ? Math.round(this.bytes / seconds) : 0,
      peak_rss_bytes: extra.peakRssBytes,
      guards: extra.guards,
      interrupted: extra.interrupted,
      warnings: this.warnings,
    };
  }
}
