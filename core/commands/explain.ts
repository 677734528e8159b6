/**
 * `fanout explain plan.yml`: what a run would do and why, without running
 * anything — the instances by task, each task's hint and resources and
 * where they came from, the guards and their capacities, the fork limit and
 * what decided it, the critical path, guards declared in conflict, and,
 * when the journal has durations of earlier runs, the predicted makespan
 * beside its lower bound (core/makespan.ts). It works from what `--dry-run`
 * computes (dry_run.ts), so it checks every instance's input the same way.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Graph, Instance } from "../graph.ts";
import type { GuardRequest } from "../guards/guard.ts";
import { type Bound, longestPath, lowerBound, simulate } from "../makespan.ts";
import type { Plan, Task } from "../plan/plan.ts";
import { raceRequests } from "../race.ts";
import type { ParallelismInfo, SelectionInfo } from "../telemetry/events.ts";
import { dryRunPositioned, effectivePrereqs, moduleName } from "./dry_run.ts";
import { load, type Prepared, type RunOptions } from "./run.ts";

type Origin = "module" | "plan" | "race";

export interface TaskExplained {
  name: string;
  module: string;
  instances: number;
  hosts: string[];
  /** How many items, or null for a task without items. */
  items: number | null;
  /** The tasks it waits for (on some host), through tasks with no instances. */
  after: string[];
  hint: Record<string, unknown> & { kind: string; from: Origin };
  resources: Record<string, { value: unknown; from: Origin }>;
  timeout_ms: number | null;
  retries: number;
}

export interface GuardExplained {
  name: string;
  kind: string;
  capacity: number;
  /** A bucket's refill rate. */
  per_second?: number;
  instances: number;
  tasks: string[];
}

export interface PathExplained {
  /** Steps (a task on a host) on the path, `task[host]`. */
  path: string[];
  steps: number;
  /** With durations: the path's time; null without. */
  ms: number | null;
}

export interface Explanation {
  type: "explain";
  plan: string;
  file: string;
  instances: number;
  hosts: string[];
  selection: SelectionInfo | null;
  tasks: TaskExplained[];
  guards: GuardExplained[];
  parallelism: ParallelismInfo;
  critical_path: PathExplained;
  /** The path that takes longest by the journal's durations (it may differ from the one with most steps). */
  critical_path_time: PathExplained | null;
  conflicts: string[];
  warnings: string[];
  durations: {
    journal: string | null;
    runs: number[];
    /** Instances with a duration of their own from the journal. */
    recorded: number;
    /** Instances without one, given the median of their task's recorded instances. */
    estimated: number;
    /** Instances of tasks with no recorded duration at all: counted as 0 ms. */
    unknown: number;
  };
  makespan: { predicted_ms: number; lower_bound_ms: number; bounds: Bound[] } | null;
}

export async function explainCommand(file: string, options: Omit<RunOptions, "sinks">): Promise<Explanation> {
  const plan = await load(file, options);
  const dry = await dryRunPositioned(plan, options);
  const { graph, prepared, parallelism } = dry;
  const instances = graph.groups.flatMap((g) => g.instances);
  const requestsOf = requestLookup(plan, prepared.requests, prepared.guards.memFree);
  const durations = options.journal !== undefined && file !== "-" ? await journalDurations(options.journal, plan.file) : undefined;
  const durationOf = durations ? estimator(instances, durations) : undefined;

  const steps = longestPath(graph, () => 1);
  // Items run side by side: a step takes as long as its slowest instance.
  const timed = durationOf ? longestPath(graph, (g) => g.instances.reduce((m, inst) => Math.max(m, durationOf.ms(inst)), 0)) : undefined;
  let makespan: Explanation["makespan"] = null;
  if (durationOf && durationOf.recorded > 0) {
    const bounds = lowerBound(instances, timed!.total, parallelism.effective, durationOf.ms, requestsOf);
    const predicted = simulate(graph, parallelism.effective, durationOf.ms, requestsOf);
    makespan = { predicted_ms: predicted, lower_bound_ms: bounds[0]!.ms, bounds };
  }
  return {
    type: "explain",
    plan: plan.name,
    file: plan.file,
    instances: graph.instanceCount,
    hosts: plan.hosts,
    selection: plan.selection ?? null,
    tasks: plan.tasks.map((t) => taskExplained(t, graph)),
    guards: guardsExplained(instances, requestsOf),
    parallelism,
    critical_path: { path: steps.groups.map(label), steps: steps.groups.length, ms: null },
    critical_path_time: timed ? { path: timed.groups.map(label), steps: timed.groups.length, ms: timed.total } : null,
    conflicts: prepared.conflicts,
    warnings: plan.warnings,
    durations: {
      journal: durations ? durations.path : null,
      runs: durations?.runs ?? [],
      recorded: durationOf?.recorded ?? 0,
      estimated: durationOf?.estimated ?? 0,
      unknown: durationOf?.unknown ?? 0,
    },
    makespan,
  };
}

const label = (g: { task: Task; host: string }) => `${g.task.name}[${g.host}]`;

/** Each instance's guard requests, as the scheduler would take them (the mem_free poll left out: it reads the machine, not the plan). */
function requestLookup(plan: Plan, requests: Prepared["requests"], memFree: unknown): (inst: Instance) => readonly GuardRequest[] {
  const cache = new WeakMap<readonly GuardRequest[], readonly GuardRequest[]>();
  return (inst) => {
    const taken = inst.task.race ? raceRequests(inst, requests, plan.vars) : requests.of(inst, plan.vars);
    if (memFree === undefined) return taken;
    let kept = cache.get(taken);
    if (!kept) cache.set(taken, (kept = taken.filter((r) => r.guard !== memFree)));
    return kept;
  };
}

function taskExplained(task: Task, graph: Graph): TaskExplained {
  const groups = graph.groups.filter((g) => g.task === task);
  const after = new Set(groups.flatMap((g) => effectivePrereqs(g).map((p) => p.task.name)));
  const origin = (own: boolean): Origin => (own ? "plan" : task.race ? "race" : "module");
  const resources: TaskExplained["resources"] = {};
  for (const [key, value] of Object.entries(task.resources)) {
    if (value !== undefined) resources[key] = { value, from: origin(task.overrides?.resources.includes(key) ?? false) };
  }
  return {
    name: task.name,
    module: moduleName(task),
    instances: groups.reduce((n, g) => n + g.size, 0),
    hosts: task.hosts,
    items: task.items?.length ?? null,
    after: [...after],
    hint: { ...task.hint, from: origin(task.overrides?.hint ?? false) },
    resources,
    timeout_ms: task.timeoutMs ?? null,
    retries: task.retries,
  };
}

function guardsExplained(instances: readonly Instance[], requestsOf: (inst: Instance) => readonly GuardRequest[]): GuardExplained[] {
  const byName = new Map<string, GuardExplained>();
  for (const inst of instances) {
    for (const r of requestsOf(inst)) {
      let g = byName.get(r.guard.name);
      if (!g) {
        const perSecond = (r.guard as { perSecond?: number }).perSecond;
        g = { name: r.guard.name, kind: r.guard.kind, capacity: r.guard.capacity, ...(perSecond !== undefined ? { per_second: perSecond } : {}), instances: 0, tasks: [] };
        byName.set(r.guard.name, g);
      }
      g.instances++;
      if (!g.tasks.includes(inst.task.name)) g.tasks.push(inst.task.name);
    }
  }
  return [...byName.values()].sort((a, b) => b.instances - a.instances || (a.name < b.name ? -1 : 1));
}

interface JournalDurations {
  path: string;
  runs: number[];
  byId: Map<string, number>;
}

/** The journal's durations for this plan file; undefined when there is no journal file (explain never makes one). */
async function journalDurations(path: string, planFile: string): Promise<JournalDurations | undefined> {
  if (!existsSync(path)) return undefined;
  const { openJournal } = await import("../journal/open_journal.ts");
  const { recordedDurations } = await import("../journal/durations.ts");
  const { db, path: file } = openJournal(path, { create: false });
  try {
    return { path: file, ...recordedDurations(db, resolve(planFile)) };
  } finally {
    db.close();
  }
}

/**
 * Each instance's expected duration: its own from the journal, else the
 * median of its task's recorded instances (a new item of a known task),
 * else 0 (a task never recorded ok).
 */
function estimator(instances: readonly Instance[], durations: JournalDurations) {
  const perTask = new Map<string, number[]>();
  for (const inst of instances) {
    const ms = durations.byId.get(inst.id);
    if (ms === undefined) continue;
    const list = perTask.get(inst.task.name) ?? [];
    list.push(ms);
    perTask.set(inst.task.name, list);
  }
  const median = new Map([...perTask].map(([task, list]) => [task, list.sort((a, b) => a - b)[list.length >> 1]!]));
  const result = { recorded: 0, estimated: 0, unknown: 0, ms: (inst: Instance) => durations.byId.get(inst.id) ?? median.get(inst.task.name) ?? 0 };
  for (const inst of instances) {
    if (durations.byId.has(inst.id)) result.recorded++;
    else if (median.has(inst.task.name)) result.estimated++;
    else result.unknown++;
  }
  return result;
}
