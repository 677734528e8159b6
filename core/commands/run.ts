/**
 * `fanout run plan.yml`: load, resolve, schedule, report. Returns the exit
 * code; errors in the plan or its plugins are thrown (typed) for cli.ts to
 * turn into messages.
 */
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK } from "../exit_codes.ts";
import { buildGraph, type Graph } from "../graph.ts";
import { GuardSet } from "../guards/guard_set.ts";
import { GuardRequests } from "../guards/requests.ts";
import { MemFreeGuard } from "../guards/mem_free.ts";
import { type MachineFacts, machineFacts, type PoolOverrides } from "../machine.ts";
import { resolveParallelism } from "../parallelism.ts";
import { loadPlan } from "../plan/load.ts";
import type { Plan } from "../plan/plan.ts";
import { memoryAvailable } from "../probe/memory.ts";
import { type Clock, realClock } from "../runtime/clock.ts";
import { peakRssBytes } from "../runtime/process_info.ts";
import { runtimeVersion } from "../runtime/runtime.ts";
import { Scheduler } from "../scheduler.ts";
import { round } from "../stats.ts";
import { type EventSink, type FanoutEvent, type ParallelismInfo, SCHEMA_VERSION } from "../telemetry/events.ts";
import { SummaryFolder } from "../telemetry/summary.ts";
import { VERSION } from "../version.ts";


export interface RunOptions extends PoolOverrides {
  parallelism?: number | "auto";
  failFast?: boolean;
  vars?: Record<string, string>;
  /** --strict: plan warnings are errors. */
  strict?: boolean;
  sinks: EventSink[];
  signal?: AbortSignal;
  clock?: Clock;
}

interface Prepared {
  graph: Graph;
  machine: MachineFacts;
  guards: GuardSet;
  requests: GuardRequests;
  parallelism: ParallelismInfo;
}

/** Everything a run needs before its first instance: shared by run and dry run. */
function prepare(plan: Plan, options: Omit<RunOptions, "sinks">): Prepared {
  const graph = buildGraph(plan);
  const machine = machineFacts(plan, options);
  const guards = new GuardSet({
    cpu: machine.cpuTokens,
    io: machine.ioPools.map((p) => ({ name: p.name, capacity: p.tokens, sequentialIoWeight: p.sequentialIoWeight })),
    memBudget: machine.memBudget,
  });
  if (machine.memFree !== undefined) {
    guards.memFree = guards.add(new MemFreeGuard(machine.memFree, () => memoryAvailable().bytes, () => guards.idle()));
  }
  const requests = new GuardRequests(guards, (task) => machine.ioPoolOf(task).name);
  const parallelism = resolveParallelism(plan, graph, machine, options.parallelism);
  return { graph, machine, guards, requests, parallelism };
}

export async function runCommand(file: string, options: RunOptions): Promise<number> {
  const plan = await loadPlan(file, { vars: options.vars, strict: options.strict });
  return await runPlan(plan, options);
}

export async function runPlan(plan: Plan, options: RunOptions): Promise<number> {
  const clock = options.clock ?? realClock;
  const { graph, machine, guards, requests, parallelism } = prepare(plan, options);
  const folder = new SummaryFolder();
  const sinks: EventSink[] = [folder, ...options.sinks];
  const emit = (event: FanoutEvent) => {
    for (const sink of sinks) sink.write(event);
  };
  const startedAt = clock.now();
  emit({
    type: "run_start",
    schema: SCHEMA_VERSION,
    version: VERSION,
    runtime: runtimeVersion(),
    plan: plan.name,
    t_ms: 0,
    ts: clock.wallTime().toISOString(),
    parallelism,
    instances: graph.instanceCount,
    hosts: plan.hosts,
    tokens: { cpu: machine.cpuTokens, io: machine.io.tokens },
    io_pools: Object.fromEntries(machine.ioPools.map((p) => [p.name, { tokens: p.tokens, storage_type: p.storageType, reason: p.reason }])),
  });
  for (const message of plan.warnings) emit({ type: "log", id: null, level: "warn", message, t_ms: 0 });
  const scheduler = new Scheduler({
    plan,
    graph,
    forks: parallelism.effective,
    guards,
    requests,
    failFast: options.failFast ?? false,
    signal: options.signal,
    emit,
    clock,
    startedAt,
  });
  const result = await scheduler.run();
  for (const conflict of guards.conflicts) {
    emit({ type: "log", id: null, level: "warn", message: conflict, t_ms: round(clock.now() - startedAt) });
  }
  const summary = folder.summary({
    makespanMs: result.endedAt - startedAt,
    guards: result.guards,
    peakRssBytes: peakRssBytes(),
    interrupted: result.interrupted,
  });
  emit({ type: "run_end", t_ms: round(result.endedAt - startedAt), summary });
  for (const sink of sinks) await sink.close?.();
  if (result.interrupted) return EXIT_INTERRUPTED;
  return summary.ok === summary.total ? EXIT_OK : EXIT_FAILED;
}

/** `--dry-run`: every instance with the guards it would take; nothing runs. */
export interface DryRunLine {
  type: "instance";
  id: string;
  task: string;
  module: string;
  host: string;
  item: unknown;
  needs: string[];
  guards: { name: string; amount: number; capacity: number }[];
}

export async function dryRunCommand(file: string, options: Omit<RunOptions, "sinks">): Promise<{ plan: Plan; graph: Graph; lines: DryRunLine[]; forks: number; reason: string }> {
  const plan = await loadPlan(file, { vars: options.vars, strict: options.strict });
  const { graph, requests, parallelism } = prepare(plan, options);
  const lines: DryRunLine[] = [];
  for (const g of graph.groups) {
    const needs = g.prereqs.map((p) => `${p.task.name}[${p.host}]`);
    for (const inst of g.instances) {
      let reqs: { name: string; amount: number; capacity: number }[];
      try {
        reqs = requests.for(inst.task, { host: inst.host, item: inst.item, vars: plan.vars, task: inst.task.name })
          .map((r) => ({ name: r.guard.name, amount: r.amount, capacity: r.guard.capacity }));
      } catch (e) {
        reqs = [{ name: `error: ${(e as Error).message}`, amount: 0, capacity: 0 }];
      }
      lines.push({ type: "instance", id: inst.id, task: inst.task.name, module: inst.task.module.name, host: inst.host, item: inst.item, needs, guards: reqs });
    }
  }
  return { plan, graph, lines, forks: parallelism.effective, reason: String(parallelism.reason ?? "") };
}
