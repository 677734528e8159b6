/**
 * What one instance needs: its task's hint and resources turned into guard
 * requests. It lives beside the scheduler loop, not among the guards: it
 * reads plan tasks and renders templates, which guards know nothing of.
 *
 * Instances of one task on one host whose hint key does not depend on the
 * item share one request list, so 100,000 items cost one lookup each.
 */
import type { Graph, Group, Instance } from "./graph.ts";
import type { GuardRequest } from "./guards/guard.ts";
import type { GuardSet } from "./guards/guard_set.ts";
import type { Task } from "./plan/plan.ts";
import { renderString, scanReferences, type TemplateScope } from "./plan/template.ts";

export class GuardRequests {
  /** Per task (a race's alternatives are tasks of their own): requests by host and rendered key. */
  private readonly cache = new Map<Task, Map<string, GuardRequest[]>>();
  /** Requests of tasks whose hint has no key: the same for every instance on a host. */
  private readonly byHost = new Map<Task, Map<string, GuardRequest[]>>();
  private readonly names = new WeakMap<GuardRequest[], readonly string[]>();
  /** Per guard name: each distinct declaration ("limit 2") and the first task that made it. */
  private readonly declared = new Map<string, Map<string, string>>();

  /** `ioPoolOf` names the I/O pool a task reads from; default "io". */
  constructor(private readonly guards: GuardSet, private readonly ioPoolOf: (task: Task) => string = () => "io") {}

  for(task: Task, scope: TemplateScope): GuardRequest[] {
    const hint = task.hint;
    if (!("key" in hint) || hint.key === undefined) return this.forHost(task, scope.host);
    const key = renderString(hint.key, scope);
    const cacheKey = `${scope.host}\u0000${key}`;
    let cache = this.cache.get(task);
    if (!cache) this.cache.set(task, (cache = new Map()));
    let requests = cache.get(cacheKey);
    if (!requests) {
      requests = this.build(task, scope.host, key);
      cache.set(cacheKey, requests);
    }
    return requests;
  }

  /** The requests of one instance; its template scope is made only when its hint has a key to render. */
  of(inst: Instance, vars: Record<string, unknown>): GuardRequest[] {
    const { task } = inst;
    const hint = task.hint;
    if (!("key" in hint) || hint.key === undefined) return this.forHost(task, inst.host);
    return this.for(task, { host: inst.host, item: inst.item, vars, task: task.name });
  }

  /** The names of the guards of a request list but the fork slot, in its order: one shared, frozen list per distinct list (task_start.guards). */
  namesOf(requests: GuardRequest[]): readonly string[] {
    let names = this.names.get(requests);
    // The fork slot (the jobserver's) is not named, as the plain fork limit never was.
    if (!names) this.names.set(requests, (names = Object.freeze(requests.filter((r) => r.guard.kind !== "forks").map((r) => r.guard.name))));
    return names;
  }

  /** The requests of an instance of `task` on `host` whose hint has no key: no template, no key string, one lookup. */
  private forHost(task: Task, host: string): GuardRequest[] {
    let hosts = this.byHost.get(task);
    if (!hosts) this.byHost.set(task, (hosts = new Map()));
    let requests = hosts.get(host);
    if (!requests) hosts.set(host, (requests = this.build(task, host, "")));
    return requests;
  }

  /**
   * Declares every guard the plan will take, before anything runs, so that a
   * bucket declared twice is at its strictest from the first start and
   * conflicts can be reported up front. Keys that name the item are rendered
   * per instance; others once per task and host. An instance whose key cannot
   * render is skipped here: it fails when it is reached.
   */
  declareAll(graph: Graph, vars: Record<string, unknown>): void {
    for (const group of graph.groups) {
      for (const task of [group.task, ...(group.task.race ?? [])]) this.declareTask(task, group, vars);
    }
  }

  private declareTask(task: Task, group: Group, vars: Record<string, unknown>): void {
    const hint = task.hint;
    const perItem = "key" in hint && hint.key !== undefined && scanReferences(hint.key).refs.some((r) => r.root === "item");
    const count = perItem ? group.size : Math.min(1, group.size);
    for (let i = 0; i < count; i++) {
      try {
        this.for(task, { host: group.host, item: group.itemOf(i), vars, task: task.name });
      } catch {
        // Reported as the instance's failure when it runs.
      }
    }
  }

  /** Guards declared differently by different tasks, one line each, with what holds. */
  conflicts(): string[] {
    const out: string[] = [];
    for (const [name, declarations] of this.declared) {
      if (declarations.size < 2) continue;
      const list = [...declarations].map(([what, task]) => `${what} (task ${task})`).join(" and ");
      out.push(
        name.startsWith("bucket:")
          ? `${name} is declared with ${list}: it runs at the lowest per_second and the lowest burst of these`
          : `${name} is declared with ${list}: each instance runs only while the holders, itself included, are within its own limit and every holder's`,
      );
    }
    return out;
  }

  private declare(name: string, what: string, task: Task): void {
    let declarations = this.declared.get(name);
    if (!declarations) this.declared.set(name, (declarations = new Map()));
    if (!declarations.has(what)) declarations.set(what, task.name);
  }

  private build(task: Task, host: string, key: string): GuardRequest[] {
    const g = this.guards;
    const out: GuardRequest[] = [];
    const hint = task.hint;
    switch (hint.kind) {
      case "host_exclusive": {
        const guard = g.keyed(key || host, hint.limit);
        this.declare(guard.name, `limit ${hint.limit}`, task);
        out.push({ guard, amount: 1, limit: hint.limit });
        break;
      }
      case "global_exclusive":
        out.push({ guard: g.global(hint.group), amount: 1 });
        break;
      case "rate_limited": {
        const guard = g.bucket(key || task.module.name, hint.per_second, hint.burst);
        this.declare(guard.name, `per_second ${hint.per_second}, burst ${hint.burst}`, task);
        out.push({ guard, amount: 1 });
        break;
      }
      case "fully_parallel":
        break;
    }
    const r = task.resources;
    out.push(...tokenRequests(g, task, host, this.ioPoolOf(task)));
    if (r.mem && g.mem) out.push({ guard: g.mem, amount: Math.min(r.mem, g.mem.capacity) });
    if (g.memFree) out.push({ guard: g.memFree, amount: 1 });
    // Every instance is a leaf job: it takes a slot whether or not its own commands are given the jobserver.
    if (g.jobserver) out.push({ guard: g.jobserver, amount: 1 });
    for (const { name, limit } of task.groupLimits) out.push({ guard: g.group(name, limit), amount: 1 });
    return out.sort((a, b) => (a.guard.name < b.guard.name ? -1 : a.guard.name > b.guard.name ? 1 : 0));
  }
}

/**
 * The CPU and I/O tokens an instance of `task` on `host` takes (none when it
 * declares neither): also what a distributed run's worker takes from its own
 * machine's pools. `ioPool` names the I/O pool a local host's task reads from.
 */
export function tokenRequests(g: GuardSet, task: Task, host: string, ioPool: string): GuardRequest[] {
  const out: GuardRequest[] = [];
  const r = task.resources;
  // A need larger than the pool is capped at the pool: it runs alone rather than never.
  // An ssh host has pools of its own (its cores, its disk); local hosts share the run's.
  const cpu = g.cpuFor(host);
  if (r.cpu) out.push({ guard: cpu, amount: Math.min(r.cpu, cpu.capacity) });
  if (r.io) {
    const pool = g.ioFor(host, ioPool);
    if (!pool) throw new Error(`Internal error: no I/O pool ${ioPool}`);
    const weight = r.io_pattern === "sequential" ? pool.sequentialIoWeight : 1;
    out.push({ guard: pool.guard, amount: Math.min(r.io * weight, pool.guard.capacity) });
  }
  return out;
}
