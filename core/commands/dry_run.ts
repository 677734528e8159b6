/**
 * `fanout run --dry-run`: what would run, like `make -n` — for every
 * instance its module, its rendered input (a command line for an `argv` or
 * `cmd` input), timeout, retries, the guards it would take and what it
 * waits for. Each input is rendered and checked against its module's schema
 * exactly as a run would do it, so a bad value from `vars` is an error here
 * (exit 2, naming the instance), not a failure halfway through a run.
 * Nothing runs; secrets are masked on stdout as in a run.
 */
import { PlanError, PlanErrors } from "../errors.ts";
import type { Graph, Group, Instance } from "../graph.ts";
import type { GuardRequests } from "../guard_requests.ts";
import type { Plan, Task } from "../plan/plan.ts";
import { MAX_ERRORS, positionsOf } from "../plan/load.ts";
import { shellQuote } from "../plan/shell_quote.ts";
import { formatPath, type YamlSource } from "../plan/source.ts";
import { raceRequests } from "../race.ts";
import { MASK } from "../secrets/mod.ts";
import { checkedInput } from "../run_task.ts";
import type { ParallelismInfo } from "../telemetry/events.ts";
import { load, prepare, type Prepared, type RunOptions } from "./run.ts";

export interface GuardUse {
  name: string;
  amount: number;
  capacity: number;
}

/** One module call of an instance: its module, its input as the module gets it, and that input as a command line when it is one. */
export interface CallLine {
  module: string;
  input: unknown;
  command: string | null;
}

export interface DryRunLine {
  type: "instance";
  id: string;
  task: string;
  module: string;
  host: string;
  item: unknown;
  needs: string[];
  guards: GuardUse[];
  /** The rendered input, secrets as `***` (checked with their values); null for a race (see `race`). */
  input: unknown;
  /** `argv` shell-quoted, or `cmd`; null when the input is neither. */
  command: string | null;
  /** A race's alternatives, each with its input; absent otherwise. */
  race?: CallLine[];
  timeout_ms: number | null;
  retries: number;
  retry_delay_ms: number;
}

export interface DryRun {
  plan: Plan;
  graph: Graph;
  lines: DryRunLine[];
  forks: number;
  reason: string;
  warnings: string[];
  /** What prepared the run (guards, machine facts, conflicts): `fanout explain` reads on from here. */
  prepared: Prepared;
  parallelism: ParallelismInfo;
}

export async function dryRunCommand(file: string, options: Omit<RunOptions, "sinks">): Promise<DryRun> {
  return await dryRunPositioned(await load(file, options), options);
}

/**
 * dryRunPlan, whose problems (an input that renders invalid) point at the
 * task's `with:` in the file: the plan is parsed again for positions only
 * when there is a problem to report.
 */
export async function dryRunPositioned(plan: Plan, options: Omit<RunOptions, "sinks">): Promise<DryRun> {
  try {
    return dryRunPlan(plan, options);
  } catch (error) {
    if (!(error instanceof PlanErrors)) throw error;
    return dryRunPlan(plan, options, await positionsOf(plan));
  }
}

/** Every instance of a loaded plan as it would run; throws PlanErrors when an input is invalid. */
export function dryRunPlan(plan: Plan, options: Omit<RunOptions, "sinks">, positions?: YamlSource): DryRun {
  const prepared = prepare(plan, options);
  const { graph, requests, parallelism, warnings } = prepared;
  const lines: DryRunLine[] = [];
  const problems: PlanError[] = [];
  const masked = Object.fromEntries(Object.keys(plan.secrets).map((name) => [name, MASK]));
  for (const g of graph.groups) {
    const needs = effectivePrereqs(g).map((p) => `${p.task.name}[${p.host}]`);
    for (const inst of g.instances) {
      const where = [...inst.task.at, inst.task.race ? "race" : "with"];
      const problem = (text: string) => problems.push(new PlanError(`${inst.id}: ${text}`, positions?.positionOf(where), formatPath(where)));
      const calls = (inst.task.race ?? [inst.task]).map((task) => callLine(inst, task, plan, masked, problem));
      const task = inst.task;
      lines.push({
        type: "instance",
        id: inst.id,
        task: task.name,
        module: moduleName(task),
        host: inst.host,
        item: inst.item,
        needs,
        guards: guardsOf(inst, requests, plan, problem),
        input: task.race ? null : calls[0]!.input,
        command: task.race ? null : calls[0]!.command,
        ...(task.race ? { race: calls } : {}),
        timeout_ms: task.timeoutMs ?? null,
        retries: task.retries,
        retry_delay_ms: task.retryDelayMs,
      });
    }
  }
  if (problems.length > 0) throw new PlanErrors(capped(problems));
  return { plan, graph, lines, forks: parallelism.effective, reason: String(parallelism.reason ?? ""), warnings, prepared, parallelism };
}

/**
 * The input is checked with the secrets' values, as a run would, and shown
 * rendered with `***` in their place: a value quoted for the shell or
 * escaped in JSON is no longer the text that stdout's masking looks for.
 */
function callLine(inst: Instance, task: Task, plan: Plan, masked: Record<string, string>, problem: (text: string) => void): CallLine {
  const checked = checkedInput(inst, task, plan.vars, plan.secrets, plan.hostInfo);
  if ("error" in checked) problem(checked.error);
  let input: unknown = null;
  try {
    input = task.input({ host: inst.host, item: inst.item, vars: plan.vars, task: task.name, secrets: masked });
  } catch {
    // Reported above: the same render failed with the real values.
  }
  return { module: task.module.name, input, command: commandOf(input) };
}

function guardsOf(inst: Instance, requests: GuardRequests, plan: Plan, problem: (text: string) => void): GuardUse[] {
  try {
    const taken = inst.task.race ? raceRequests(inst, requests, plan.vars) : requests.for(inst.task, { host: inst.host, item: inst.item, vars: plan.vars, task: inst.task.name });
    return taken.map((r) => ({ name: r.guard.name, amount: r.amount, capacity: r.guard.capacity }));
  } catch (e) {
    problem(`its hint's key cannot be rendered: ${(e as Error).message}`);
    return [];
  }
}

/** An input that is a command — `argv: [...]` or `cmd: "..."` (the shell module's, or a plugin's of that shape) — as one line. */
function commandOf(input: unknown): string | null {
  if (input === null || typeof input !== "object") return null;
  const { argv, cmd } = input as { argv?: unknown; cmd?: unknown };
  const scalar = (a: unknown) => typeof a === "string" || typeof a === "number" || typeof a === "boolean";
  if (Array.isArray(argv) && argv.length > 0 && argv.every(scalar)) return argv.map((a) => shellQuote(String(a))).join(" ");
  if (typeof cmd === "string") return cmd;
  return null;
}

function capped(errors: PlanError[]): PlanError[] {
  if (errors.length <= MAX_ERRORS) return errors;
  return [...errors.slice(0, MAX_ERRORS), new PlanError(`… and ${errors.length - MAX_ERRORS} more instances with invalid input`, undefined)];
}

/** What a group really waits for: its prerequisites, looking through those with no instances (finished steps). */
export function effectivePrereqs(group: Group): Group[] {
  const out = new Set<Group>();
  const visit = (g: Group) => {
    for (const p of g.prereqs) {
      if (p.size > 0) out.add(p);
      else visit(p);
    }
  };
  visit(group);
  return [...out];
}

/** A race shows as race(a, b), with every alternative's module. */
export function moduleName(task: Task): string {
  return task.race ? `race(${task.race.map((alt) => alt.module.name).join(", ")})` : task.module.name;
}
