/**
 * `parallelism: auto`: one fork limit, chosen at run start from the plan
 * alone (instance counts, hints, resources) and the machine (cores, I/O
 * depth). Deterministic: the same plan on the same machine gets the same
 * number. docs/parallelism.md gives the formula and its reasons.
 */
import type { Graph } from "./graph.ts";
import type { MachineFacts } from "./machine.ts";
import type { Plan, Task } from "./plan/plan.ts";
import { renderString } from "./plan/template.ts";
import type { ParallelismInfo } from "./telemetry/events.ts";

/** Latency-bound work (remote commands, HTTP, sleeps) gains from many in flight… */
export const LATENCY_FORKS_PER_CORE = 8;
export const LATENCY_FORKS_MIN = 16;
/** …up to a ceiling that keeps process tables and file descriptors sane. */
export const MAX_AUTO_FORKS = 256;

/** How many instances of one task could usefully run at once, and why. */
function taskCeiling(task: Task, instances: number, hostsOrKeys: number, m: MachineFacts): { n: number; why: string } {
  const hint = task.hint;
  let n = instances;
  let why = "instances";
  const cap = (value: number, reason: string) => {
    if (value < n) {
      n = value;
      why = reason;
    }
  };
  if (hint.kind === "global_exclusive") cap(1, "global_exclusive");
  if (hint.kind === "host_exclusive") cap(hostsOrKeys * hint.limit, "host_exclusive keys × limit");
  if (hint.kind === "rate_limited") cap(Math.max(hint.burst, Math.ceil(hint.per_second)), "rate_limited burst/rate");
  if (task.resources.cpu) cap(Math.max(1, Math.floor(m.cpuTokens / Math.min(task.resources.cpu, m.cpuTokens))), "cpu tokens");
  if (task.resources.io) {
    const pool = m.ioPoolOf(task);
    const weight = task.resources.io_pattern === "sequential" ? pool.sequentialIoWeight : 1;
    cap(Math.max(1, Math.floor(pool.tokens / Math.min(task.resources.io * weight, pool.tokens))), `io tokens (${pool.name})`);
  }
  const latency = Math.max(LATENCY_FORKS_MIN, LATENCY_FORKS_PER_CORE * m.cores);
  if (!task.resources.cpu && !task.resources.io) cap(latency, "latency-bound: cores × 8");
  return { n, why };
}

/** How many distinct lock keys a host_exclusive task renders (the hosts, unless `key:` says otherwise). */
function lockKeys(task: Task, graph: Graph, plan: Plan): number {
  const hint = task.hint;
  if (hint.kind !== "host_exclusive" || hint.key === undefined) return task.hosts.length;
  const keys = new Set<string>();
  for (const g of graph.groups) {
    if (g.task !== task) continue;
    for (const inst of g.instances) {
      try {
        keys.add(renderString(hint.key, { host: inst.host, item: inst.item, vars: plan.vars, task: task.name }));
      } catch {
        // An instance whose key cannot render fails at run time; it holds no lock.
      }
    }
  }
  return Math.max(1, keys.size);
}

export function resolveParallelism(plan: Plan, graph: Graph, m: MachineFacts, override?: number | "auto"): ParallelismInfo {
  const requested = override ?? plan.parallelism;
  const base = {
    available_cores: m.cores,
    io_depth: m.io.tokens,
    storage_type: m.io.storageType,
    io_reason: m.io.reason,
    sequential_io_weight: m.io.sequentialIoWeight,
    eligible_instances: graph.instanceCount,
  };
  if (requested !== "auto") {
    return { mode: "manual", effective: requested, cap: requested, ...base, reason: "set by the plan or --parallelism" };
  }
  // Tasks in a chain run one after another, so the busiest task sets the limit.
  const perTask = new Map<Task, number>();
  for (const g of graph.groups) perTask.set(g.task, (perTask.get(g.task) ?? 0) + g.instances.length);
  let best = { n: 1, why: "no instances", task: "" };
  for (const [task, instances] of perTask) {
    const c = taskCeiling(task, instances, lockKeys(task, graph, plan), m);
    if (c.n > best.n) best = { ...c, task: task.name };
  }
  const effective = Math.max(1, Math.min(best.n, MAX_AUTO_FORKS));
  const reason = best.task
    ? `${effective}: task ${best.task} (${best.why}${best.n > MAX_AUTO_FORKS ? `, capped at ${MAX_AUTO_FORKS}` : ""})`
    : "1: nothing to run";
  return { mode: "auto", effective, cap: MAX_AUTO_FORKS, ...base, reason };
}
