/**
 * Selecting part of a plan: `--limit HOST` (only those hosts), `--only TASK`
 * (that task and everything it needs, transitively) and `--start-at TASK`
 * (nothing before it in plan order). What is not selected is not planned at
 * all: it has no instance, no event, no task_end. A need on work that is not
 * selected counts as met (like Ansible's --start-at-task); `--resume` is the
 * way to skip only what already succeeded.
 *
 * The result is a plan of its own — the selected tasks, renumbered, each
 * with its selected hosts — so graph, guards and parallelism see only it.
 */
import { UsageError } from "../errors.ts";
import { buildGraph, type Group } from "../graph.ts";
import { didYouMean } from "../suggest.ts";
import type { SelectionInfo } from "../telemetry/events.ts";
import type { Plan, Task } from "./plan.ts";

export type { SelectionInfo };

export interface Selection {
  limit?: string[];
  only?: string[];
  startAt?: string;
}

export function isSelecting(s: Selection): boolean {
  return s.limit !== undefined || s.only !== undefined || s.startAt !== undefined;
}

/** The plan cut down to the selection; the plan itself when nothing is selected. Throws UsageError for unknown names or an empty selection. */
export function selectWork(plan: Plan, selection: Selection): Plan {
  if (!isSelecting(selection)) return plan;
  const hosts = new Set(selection.limit === undefined ? plan.hosts : known("--limit", selection.limit, plan.hosts, "the plan's hosts"));
  const names = [...plan.tasks.map((t) => t.name), ...(plan.groups ?? []).map((g) => g.name)];
  const tasksOf = (name: string): string[] => plan.groups?.find((g) => g.name === name)?.members ?? [name];

  const graph = buildGraph(plan);
  let chosen = graph.groups.filter((g) => hosts.has(g.host));
  if (selection.only !== undefined) {
    const wanted = new Set(known("--only", selection.only, names, "tasks and groups").flatMap(tasksOf));
    chosen = closure(chosen.filter((g) => wanted.has(g.task.name)), (g) => hosts.has(g.host));
  }
  if (selection.startAt !== undefined) {
    const [name] = known("--start-at", [selection.startAt], names, "tasks and groups");
    const first = Math.min(...tasksOf(name!).map((n) => plan.tasks.find((t) => t.name === n)!.index));
    chosen = chosen.filter((g) => g.task.index >= first);
  }

  const hostsOf = new Map<Task, Set<string>>();
  for (const g of chosen) {
    let set = hostsOf.get(g.task);
    if (!set) hostsOf.set(g.task, (set = new Set()));
    set.add(g.host);
  }
  const tasks: Task[] = [];
  for (const task of plan.tasks) {
    const selected = hostsOf.get(task);
    if (!selected) continue;
    const index = tasks.length;
    const taskHosts = task.hosts.filter((h) => selected.has(h));
    tasks.push({ ...task, index, hosts: taskHosts, race: task.race?.map((alt) => ({ ...alt, index, hosts: taskHosts })) });
  }
  if (tasks.length === 0) throw new UsageError(`the selection (${describe(selection)}) leaves nothing to run`);
  const planned = plan.hosts.filter((h) => tasks.some((t) => t.hosts.includes(h)));
  return {
    ...plan,
    hosts: planned,
    tasks,
    selection: {
      limit: selection.limit ?? null,
      only: selection.only ?? null,
      start_at: selection.startAt ?? null,
      tasks: tasks.map((t) => t.name),
      hosts: planned,
    },
  };
}

/** The seeds and every group they wait for, transitively, among those `keep` allows. */
function closure(seeds: Group[], keep: (g: Group) => boolean): Group[] {
  const seen = new Set<Group>(seeds);
  const stack = [...seeds];
  while (stack.length > 0) {
    for (const p of stack.pop()!.prereqs) {
      if (seen.has(p) || !keep(p)) continue;
      seen.add(p);
      stack.push(p);
    }
  }
  return [...seen];
}

function known(flag: string, asked: string[], names: readonly string[], what: string): string[] {
  for (const name of asked) {
    if (!names.includes(name)) throw new UsageError(`${flag}: no "${name}" among ${what}${didYouMean(name, names)}; expected one of: ${names.join(", ")}`);
  }
  return asked;
}

function describe(s: Selection): string {
  const parts: string[] = [];
  if (s.limit) parts.push(`--limit ${s.limit.join(",")}`);
  if (s.only) parts.push(`--only ${s.only.join(",")}`);
  if (s.startAt !== undefined) parts.push(`--start-at ${s.startAt}`);
  return parts.join(" ");
}
