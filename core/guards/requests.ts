/**
 * What one instance needs: its hint and resources turned into guard requests.
 * Instances of one task on one host whose hint key does not depend on the
 * item share one request list, so 100,000 items cost one lookup each.
 */
import type { Task } from "../plan/plan.ts";
import { renderString, type TemplateScope } from "../plan/template.ts";
import type { GuardRequest } from "./guard.ts";
import type { GuardSet } from "./guard_set.ts";

export class GuardRequests {
  private readonly cache = new Map<string, GuardRequest[]>();

  /** `ioPoolOf` names the I/O pool a task reads from; default "io". */
  constructor(private readonly guards: GuardSet, private readonly ioPoolOf: (task: Task) => string = () => "io") {}

  for(task: Task, scope: TemplateScope): GuardRequest[] {
    const hint = task.hint;
    const key = "key" in hint && hint.key !== undefined ? renderString(hint.key, scope) : "";
    const cacheKey = `${task.index}\u0000${scope.host}\u0000${key}`;
    let requests = this.cache.get(cacheKey);
    if (!requests) {
      requests = this.build(task, scope.host, key);
      this.cache.set(cacheKey, requests);
    }
    return requests;
  }

  private build(task: Task, host: string, key: string): GuardRequest[] {
    const g = this.guards;
    const out: GuardRequest[] = [];
    const hint = task.hint;
    switch (hint.kind) {
      case "host_exclusive":
        out.push({ guard: g.keyed(key || host, hint.limit), amount: 1 });
        break;
      case "global_exclusive":
        out.push({ guard: g.global(hint.group), amount: 1 });
        break;
      case "rate_limited":
        out.push({ guard: g.bucket(key || task.module.name, hint.per_second, hint.burst), amount: 1 });
        break;
      case "fully_parallel":
        break;
    }
    const r = task.resources;
    // A need larger than the pool is capped at the pool: it runs alone rather than never.
    if (r.cpu) out.push({ guard: g.cpu, amount: Math.min(r.cpu, g.cpu.capacity) });
    if (r.io) {
      const pool = g.io.get(this.ioPoolOf(task));
      if (!pool) throw new Error(`Internal error: no I/O pool ${this.ioPoolOf(task)}`);
      const weight = r.io_pattern === "sequential" ? pool.sequentialIoWeight : 1;
      out.push({ guard: pool.guard, amount: Math.min(r.io * weight, pool.guard.capacity) });
    }
    if (r.mem && g.mem) out.push({ guard: g.mem, amount: Math.min(r.mem, g.mem.capacity) });
    if (g.memFree) out.push({ guard: g.memFree, amount: 1 });
    return out.sort((a, b) => (a.guard.name < b.guard.name ? -1 : a.guard.name > b.guard.name ? 1 : 0));
  }
}
