/**
 * The task list as written → the flat list of tasks that the rest of the
 * loader checks and the scheduler runs, and the module calls each task makes.
 *
 * A `parallel:` group is one step of the list: its tasks (and those of groups
 * nested in it) take its place and share its step number, so they do not
 * wait for each other and what comes after waits for all of them. Each
 * carries the groups it is in, whose `limit` becomes a guard (core/guard_requests.ts).
 * A group is no instance: waiting for its tasks, it holds nothing.
 *
 * A task makes one module call (`module:`) or races several (`race:`).
 */
import { PlanError } from "../errors.ts";
import type { TaskParts } from "./checks.ts";
import { parseFields } from "./issues.ts";
import { type GroupInput, GroupSchema } from "./schema.ts";
import { formatPath, type PathKey, type YamlSource } from "./source.ts";

export interface GroupEntry {
  name: string;
  at: PathKey[];
  limit?: number;
  needs?: string[];
  /** The tasks in it, nested groups' included, by the names they were written with. */
  members: string[];
}

export interface TaskEntry {
  /** The task's mapping as written. */
  raw: unknown;
  /** Where it is: ["tasks", 2], or ["tasks", 2, "parallel", 0] inside a group. */
  at: PathKey[];
  /** Its step in the task list: the index of the top-level entry it belongs to. */
  step: number;
  /** The groups it is in, outermost first. */
  groups: GroupEntry[];
}

export interface Steps {
  tasks: TaskEntry[];
  /** Groups with a valid name. */
  groups: GroupEntry[];
  errors: PlanError[];
}

/** One module call of a task: its own `module:`, or one alternative of its `race:`. */
export interface ModuleCallParts {
  module?: string;
  with?: Record<string, unknown>;
  hint?: TaskParts["hint"];
  at: PathKey[];
}

const mappingOf = (raw: unknown): Record<string, unknown> | undefined =>
  raw !== null && typeof raw === "object" && !Array.isArray(raw) ? raw as Record<string, unknown> : undefined;

const errorAt = (source: YamlSource, path: PathKey[], detail: string, key = false) =>
  new PlanError(detail, source.positionOf(path, { key }), formatPath(path));

/** Walks the written task list; an entry with `parallel:` is a group, any other a task. */
export function expandSteps(rawTasks: readonly unknown[], source: YamlSource): Steps {
  const out: Steps = { tasks: [], groups: [], errors: [] };
  const walk = (raw: unknown, at: PathKey[], step: number, groups: GroupEntry[]) => {
    const written = mappingOf(raw);
    if (!written || !Object.hasOwn(written, "parallel")) {
      out.tasks.push({ raw, at, step, groups });
      if (typeof written?.name === "string") for (const g of groups) g.members.push(written.name);
      return;
    }
    const parsed = parseFields(GroupSchema.entries, raw, source, at, "a group with name and parallel");
    out.errors.push(...parsed.errors);
    const parts = parsed.parts as Partial<GroupInput>;
    const group: GroupEntry = { name: parts.name ?? "", at, limit: parts.limit, needs: parts.needs, members: [] };
    if (parts.name !== undefined) out.groups.push(group);
    const members = written.parallel;
    if (Array.isArray(members)) members.forEach((m, k) => walk(m, [...at, "parallel", k], step, [...groups, group]));
  };
  rawTasks.forEach((raw, i) => walk(raw, ["tasks", i], i, []));
  return out;
}

/** A task says `module:` or `race:`, never both; a race's inputs are its alternatives'. */
export function checkShape(raw: unknown, at: PathKey[], source: YamlSource): PlanError[] {
  const written = mappingOf(raw);
  if (!written) return []; // parseFields has said what it should be
  const hasModule = Object.hasOwn(written, "module");
  const hasRace = Object.hasOwn(written, "race");
  if (hasModule && hasRace) return [errorAt(source, [...at, "race"], "give either module or race, not both", true)];
  if (!hasModule && !hasRace) return [errorAt(source, at, `missing required key "module" (or race: a list of alternatives, each with a module)`)];
  if (hasRace && Object.hasOwn(written, "with")) {
    return [errorAt(source, [...at, "with"], "with belongs inside each race alternative (race[0].with, …), not beside race", true)];
  }
  return [];
}

/** The module calls of a task, each at its own place in the file. */
export function callsOf(t: TaskParts, at: PathKey[]): ModuleCallParts[] {
  if (t.race) return t.race.map((alt, k) => ({ module: alt.module, with: alt.with, hint: alt.hint, at: [...at, "race", k] }));
  return [{ module: t.module, with: t.with, hint: t.hint, at }];
}

/**
 * Group names share the namespace of task names (a `needs:` may name either);
 * a group's `needs:` names known tasks or groups outside it; a task cannot
 * need a group it is in.
 */
export function checkGroups(steps: Steps, tasks: readonly TaskParts[], source: YamlSource): PlanError[] {
  const errors: PlanError[] = [];
  const taskNames = new Set(tasks.map((t) => t.name).filter((n) => n !== undefined));
  const seen = new Map<string, GroupEntry>();
  for (const g of steps.groups) {
    const first = seen.get(g.name);
    if (first) errors.push(errorAt(source, [...g.at, "name"], `duplicate group name "${g.name}" (first used by ${formatPath(first.at)})`));
    else if (taskNames.has(g.name)) errors.push(errorAt(source, [...g.at, "name"], `group name "${g.name}" is also a task's name; names of tasks and groups are one namespace`));
    else seen.set(g.name, g);
    g.needs?.forEach((n, j) => {
      if (n === g.name || g.members.includes(n)) errors.push(errorAt(source, [...g.at, "needs", j], `group "${g.name}" cannot need "${n}", which is in it`));
      else if (!taskNames.has(n) && !steps.groups.some((o) => o.name === n)) errors.push(errorAt(source, [...g.at, "needs", j], `unknown task or group "${n}"`));
    });
  }
  steps.tasks.forEach((e, i) => {
    tasks[i]?.needs?.forEach((n, j) => {
      if (e.groups.some((g) => g.name === n)) errors.push(errorAt(source, [...e.at, "needs", j], `task "${tasks[i]!.name}" cannot need group "${n}", which holds it`));
    });
  });
  return errors;
}

/**
 * The needs the graph works from: a task in a group with no `needs:` of its
 * own takes the innermost group's that has one, and a group's name stands
 * for all the tasks in it.
 */
export function resolveNeeds(steps: Steps, tasks: readonly TaskParts[]): (string[] | undefined)[] {
  const members = new Map(steps.groups.map((g) => [g.name, g.members]));
  return tasks.map((t, i) => {
    const needs = t.needs ?? steps.tasks[i]!.groups.findLast((g) => g.needs !== undefined)?.needs;
    return needs?.flatMap((n) => members.get(n) ?? [n]);
  });
}
