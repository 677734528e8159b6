/**
 * How long a plan should take, from its graph alone (`fanout explain`):
 *
 * - the critical path: the longest chain of steps (a task on a host, all its
 *   items counting as one step), in steps, and — given durations — in time,
 *   a step taking as long as its slowest instance;
 * - a lower bound no schedule can beat: the longest of the critical path's
 *   time, the total work divided by the fork limit, and for each guard that
 *   is held while running (not a bucket, whose tokens are spent) the work
 *   under it weighted by the amount taken, divided by its capacity;
 * - a prediction: the run replayed on a simulated clock with the real guards,
 *   starting what fits in plan order as the scheduler does.
 *
 * Pure: durations come in as a function; nothing here reads a clock.
 */
import type { Graph, Group, Instance } from "./graph.ts";
import type { GuardRequest } from "./guards/guard.ts";
import { releaseAll, tryAcquireAll } from "./guards/guard_set.ts";
import { Heap } from "./heap.ts";

export interface LongestPath {
  /** Its total weight. */
  total: number;
  /** Its groups, first to last (groups with no instances left out). */
  groups: Group[];
}

/** Groups in an order where each comes after its prerequisites (needs may point forward in the file). */
function topological(graph: Graph): Group[] {
  const waiting = graph.groups.map((g) => g.prereqs.length);
  const order: Group[] = graph.groups.filter((g) => g.prereqs.length === 0);
  for (let i = 0; i < order.length; i++) {
    for (const d of order[i]!.dependents) if (--waiting[d.index]! === 0) order.push(d);
  }
  if (order.length !== graph.groups.length) throw new Error("Internal error: the graph has a cycle");
  return order;
}

/** The heaviest chain of groups, each weighing `weight(g)` (0 for a group with no instances). */
export function longestPath(graph: Graph, weight: (g: Group) => number): LongestPath {
  const best = new Float64Array(graph.groups.length);
  const via: (Group | undefined)[] = new Array(graph.groups.length);
  let end: Group | undefined;
  for (const g of topological(graph)) {
    let before = 0;
    for (const p of g.prereqs) {
      if (via[g.index] === undefined || best[p.index]! > before) {
        before = best[p.index]!;
        via[g.index] = p;
      }
    }
    best[g.index] = before + (g.size > 0 ? weight(g) : 0);
    if (end === undefined || best[g.index]! > best[end.index]!) end = g;
  }
  const groups: Group[] = [];
  for (let g = end; g !== undefined; g = via[g.index]) if (g.size > 0) groups.unshift(g);
  return { total: end === undefined ? 0 : best[end.index]!, groups };
}

export interface Bound {
  ms: number;
  /** What sets it: "critical path", "forks", or a guard's name. */
  by: string;
}

/** The lower bound and each of its terms, largest first. */
export function lowerBound(
  instances: readonly Instance[],
  criticalMs: number,
  forks: number,
  durationOf: (inst: Instance) => number,
  requestsOf: (inst: Instance) => readonly GuardRequest[],
): Bound[] {
  let work = 0;
  const perGuard = new Map<string, { held: number; capacity: number }>();
  for (const inst of instances) {
    const ms = durationOf(inst);
    work += ms;
    for (const r of requestsOf(inst)) {
      if (r.guard.kind === "bucket") continue;
      const capacity = Math.min(r.guard.capacity, r.limit ?? Infinity);
      const entry = perGuard.get(r.guard.name) ?? { held: 0, capacity };
      entry.held += ms * r.amount;
      entry.capacity = Math.min(entry.capacity, capacity);
      perGuard.set(r.guard.name, entry);
    }
  }
  const bounds: Bound[] = [{ ms: criticalMs, by: "critical path" }, { ms: work / forks, by: "forks" }];
  for (const [name, { held, capacity }] of perGuard) bounds.push({ ms: held / capacity, by: name });
  return bounds.sort((a, b) => b.ms - a.ms);
}

/**
 * The run on a simulated clock: every instance takes `durationOf(inst)`,
 * starts once its groups' prerequisites are done and its guards and a fork
 * slot are free, lowest plan position first among those waiting on the same
 * guards; buckets refill with simulated time. Returns the makespan in ms.
 * The guards must be fresh (nothing held); afterwards they hold nothing
 * again (a bucket's tokens stay spent).
 */
export function simulate(
  graph: Graph,
  forks: number,
  durationOf: (inst: Instance) => number,
  requestsOf: (inst: Instance) => readonly GuardRequest[],
): number {
  // Instances waiting behind the same request list share a queue: one try per list, not per instance.
  const queues = new Map<readonly GuardRequest[], Instance[]>();
  const waiting = graph.groups.map((g) => g.prereqs.length);
  const left = graph.groups.map((g) => g.size);
  const running = new Heap<{ end: number; inst: Instance; requests: readonly GuardRequest[] }>((a, b) => a.end < b.end || (a.end === b.end && a.inst.seq < b.inst.seq));
  let now = 0;
  let makespan = 0;

  const groupDone = (g: Group) => {
    for (const d of g.dependents) if (--waiting[d.index]! === 0) release(d);
  };
  const release = (g: Group) => {
    if (g.size === 0) return groupDone(g);
    for (const inst of g.instances) {
      const requests = requestsOf(inst);
      let queue = queues.get(requests);
      if (!queue) queues.set(requests, (queue = []));
      queue.push(inst);
    }
  };
  for (const g of graph.groups) if (g.prereqs.length === 0) release(g);

  for (;;) {
    // Start what fits, plan order first across the queues.
    let next = Infinity;
    const heads = [...queues].filter(([, q]) => q.length > 0).sort(([, a], [, b]) => a[0]!.seq - b[0]!.seq);
    for (const [requests, queue] of heads) {
      while (queue.length > 0 && running.size < forks) {
        if (tryAcquireAll(requests, now) !== undefined) {
          for (const r of requests) next = Math.min(next, r.guard.readyAt(r.amount, now, r.limit));
          break;
        }
        const inst = queue.shift()!;
        running.push({ end: now + durationOf(inst), inst, requests });
      }
    }
    if (running.size === 0) {
      if (heads.every(([, q]) => q.length === 0)) break;
      // Nothing holds anything and nothing fits: only time (a bucket) can help — or, as in the scheduler, start one anyway.
      if (next > now && next < Infinity) {
        now = next;
        continue;
      }
      const inst = heads.find(([, q]) => q.length > 0)![1].shift()!;
      running.push({ end: now + durationOf(inst), inst, requests: [] });
      continue;
    }
    const first = running.peek()!;
    // A bucket may refill before the next end: look again then.
    if (next > now && next < first.end) {
      now = next;
      continue;
    }
    now = first.end;
    while (running.size > 0 && running.peek()!.end === now) {
      const done = running.pop()!;
      releaseAll(done.requests, now);
      makespan = Math.max(makespan, now);
      if (--left[done.inst.group.index]! === 0) groupDone(done.inst.group);
    }
  }
  return makespan;
}
