/**
 * `max_fail_percentage`: counts each task's failed instances (`failed` or
 * `timed_out`, after their retries) against the instances the task plans on
 * every host, and says when more than that share has failed. The scheduler
 * then ends the task's instances that have not started as `skipped`; those
 * already running (or waiting to retry) go on.
 *
 * Unlike Ansible, which counts per batch of hosts, the count is per task,
 * over all of its instances: a task of 10 instances with
 * max_fail_percentage 20 stops after its 3rd failure (3/10 > 20 %).
 */
import type { Graph } from "./graph.ts";
import type { Task } from "./plan/plan.ts";
import type { Status } from "./telemetry/events.ts";

export class MaxFail {
  private readonly planned = new Map<Task, number>();
  private readonly failed = new Map<Task, number>();

  constructor(graph: Graph) {
    for (const g of graph.groups) {
      if (g.task.maxFailPercentage !== undefined) this.planned.set(g.task, (this.planned.get(g.task) ?? 0) + g.size);
    }
  }

  /** Records an instance's final status. */
  ended(task: Task, status: Status): void {
    if ((status === "failed" || status === "timed_out") && this.planned.has(task)) this.failed.set(task, (this.failed.get(task) ?? 0) + 1);
  }

  /** Why an instance of `task` that has not started must not start now, or undefined when it may. */
  skipReason(task: Task): string | undefined {
    const pct = task.maxFailPercentage;
    const failed = this.failed.get(task);
    if (pct === undefined || failed === undefined) return undefined;
    const planned = this.planned.get(task)!;
    // failed / planned > pct %, in whole numbers.
    if (failed * 100 <= pct * planned) return undefined;
    return `skipped: task ${task.name} is over its max_fail_percentage ${pct} (${failed} of ${planned} instances failed)`;
  }
}
