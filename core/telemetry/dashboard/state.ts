/**
 * What the live dashboard shows about instances, folded from the events:
 * how far the run is, what runs now and since when, each task's tally and
 * time, the slowest instances. Guards are not here: their state is read
 * from the scheduler at each frame (queues are not in the events).
 */
import type { FanoutEvent, RunSummary, Status } from "../events.ts";

export interface Running {
  id: string;
  attempt: number;
  /** Run time (t_ms) at which this attempt started. */
  startedMs: number;
}

export interface TaskTally {
  name: string;
  counts: Record<Status, number>;
  /** Run time of the task's first start and last end: its span on the clock. */
  firstStartMs?: number;
  lastEndMs?: number;
}

export interface Finished {
  id: string;
  status: Status;
  durationMs: number;
}

/** How many of the slowest instances are kept for the final summary. */
export const SLOWEST_KEPT = 5;

const noCounts = (): Record<Status, number> => ({ ok: 0, failed: 0, timed_out: 0, cancelled: 0, skipped: 0, cached: 0, unreachable: 0 });

export class DashboardState {
  plan = "";
  total = 0;
  ended = 0;
  counts = noCounts();
  retries = 0;
  /** By id, in start order: the first is the one running longest. */
  readonly running = new Map<string, Running>();
  readonly tasks = new Map<string, TaskTally>();
  /** The slowest finished instances, slowest first. */
  readonly slowest: Finished[] = [];
  summary: RunSummary | undefined;

  write(event: FanoutEvent): void {
    switch (event.type) {
      case "run_start":
        this.plan = event.plan;
        this.total = event.instances;
        break;
      case "task_start": {
        this.running.set(event.id, { id: event.id, attempt: event.attempt, startedMs: event.t_ms });
        const tally = this.tally(event.task);
        tally.firstStartMs ??= event.t_ms;
        break;
      }
      case "task_retry":
        this.retries++;
        this.running.delete(event.id);
        break;
      case "task_end": {
        this.running.delete(event.id);
        this.ended++;
        this.counts[event.status]++;
        const tally = this.tally(event.task);
        tally.counts[event.status]++;
        tally.lastEndMs = Math.max(tally.lastEndMs ?? 0, event.t_ms);
        if (event.duration_ms > 0) this.keepIfSlow({ id: event.id, status: event.status, durationMs: event.duration_ms });
        break;
      }
      case "run_end":
        this.summary = event.summary;
        break;
    }
  }

  private tally(task: string): TaskTally {
    let t = this.tasks.get(task);
    if (!t) this.tasks.set(task, (t = { name: task, counts: noCounts() }));
    return t;
  }

  private keepIfSlow(f: Finished): void {
    const s = this.slowest;
    if (s.length === SLOWEST_KEPT && s[s.length - 1]!.durationMs >= f.durationMs) return;
    let i = s.findIndex((x) => x.durationMs < f.durationMs);
    if (i < 0) i = s.length;
    s.splice(i, 0, f);
    if (s.length > SLOWEST_KEPT) s.pop();
  }
}
