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
    for (let i = 0; i < g.size; i++) {
      try {
        keys.add(renderString(hint.key, { host: g.host, item: g.itemOf(i), vars: plan.vars, task: task.name }));
      } catch {
        // An instance whose key cannot render fails at run time; it holds no lock.
      }
    }
  }
  return Math.max(1, keys.size);
}

/**
 * The step of each group: 0 for groups with no prerequisites, else one more
 * than their latest prerequisite. Groups of one step may all run at once.
 */
function stepsOf(graph: Graph): Int32Array {
  const step = new Int32Array(graph.groups.length).fill(-1);
  for (const root of graph.groups) {
    if (step[root.index]! >= 0) continue;
    // Iterative depth-first: a chain of thousands of tasks must not overflow the stack.
    const stack = [root];
    while (stack.length > 0) {
      const g = stack[stack.length - 1]!;
      const pending = g.prereqs.filter((p) => step[p.index]! < 0);
      if (pending.length > 0) {
        stack.push(...pending);
        continue;
      }
      stack.pop();
      step[g.index] = g.prereqs.reduce((m, p) => Math.max(m, step[p.index]! + 1), 0);
    }
  }
  return step;
}

interface StepWidth {
  n: number;
  tasks: { name: string; n: number; why: string }[];
}

/**
 * How many instances can usefully run at once: for each step of the graph,
 * the sum over its tasks of what each task could run at once (taskCeiling);
 * the widest step wins. Tasks with `needs: []` share step 1, so four
 * independent tasks count four, not one.
 */
function widestStep(plan: Plan, graph: Graph, m: MachineFacts): StepWidth {
  const steps = stepsOf(graph);
  const byStep = new Map<number, Map<Task, number>>();
  for (const g of graph.groups) {
    if (g.size === 0) continue;
    const s = steps[g.index]!;
    let tasks = byStep.get(s);
    if (!tasks) byStep.set(s, (tasks = new Map()));
    tasks.set(g.task, (tasks.get(g.task) ?? 0) + g.size);
  }
  const keys = new Map<Task, number>();
  let best: StepWidth = { n: 0, tasks: [] };
  for (const tasks of byStep.values()) {
    const width: StepWidth = { n: 0, tasks: [] };
    for (const [task, instances] of tasks) {
      if (!keys.has(task)) keys.set(task, lockKeys(task, graph, plan));
      const c = taskCeiling(task, instances, keys.get(task)!, m);
      width.n += c.n;
      width.tasks.push({ name: task.name, n: c.n, why: c.why });
    }
    if (width.n > best.n) best = width;
  }
  return best;
}

const LISTED_TASKS = 4;

function describeWidth(effective: number, w: StepWidth): string {
  const capped = w.n > MAX_AUTO_FORKS ? `, capped at ${MAX_AUTO_FORKS}` : "";
  if (w.tasks.length === 0) return "1: nothing to run";
  if (w.tasks.length === 1) return `${effective}: task ${w.tasks[0]!.name} (${w.tasks[0]!.why}${capped})`;
  const listed = w.tasks.slice(0, LISTED_TASKS).map((t) => `${t.name} ${t.n} (${t.why})`).join(", ");
  const more = w.tasks.length > LISTED_TASKS ? `, and ${w.tasks.length - LISTED_TASKS} more` : "";
  return `${effective}: ${w.tasks.length} tasks can run at once${capped}: ${listed}${more}`;
}

export function resolveParallelism(plan: Plan, graph: Graph, m: MachineFacts, override?: number | "auto"): ParallelismInfo {
  const requested = override ?? plan.parallelism;
  const base = {
    available_cores: m.cores,
    cpu_tokens: m.cpuTokens,
    cpu_reason: m.cpuReason,
    io_depth: m.io.tokens,
    storage_type: m.io.storageType,
    io_reason: m.io.reason,
    sequential_io_weight: m.io.sequentialIoWeight,
    eligible_instances: graph.instanceCount,
  };
  if (requested !== "auto") {
    return { mode: "manual", effective: requested, cap: requested, ...base, reason: "set by the plan or --parallelism" };
  }
  const widest = widestStep(plan, graph, m);
  const effective = Math.max(1, Math.min(widest.n, MAX_AUTO_FORKS));
  return { mode: "auto", effective, cap: MAX_AUTO_FORKS, ...base, reason: describeWidth(effective, widest) };
}
