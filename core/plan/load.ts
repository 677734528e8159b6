/**
 * Plan file → Plan: parse with positions, validate against the schema field
 * by field, check names, hosts, needs, items, templates, modules and each
 * task's inputs against its module's schema, and report every problem found
 * in one pass (the first MAX_ERRORS, in file order). Nothing runs unless the
 * whole plan is valid.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, extname, resolve } from "node:path";
import { PlanError, PlanErrors } from "../errors.ts";
import type { Resources } from "../hints.ts";
import type { Host } from "../hosts/host.ts";
import { expandHostNames, type PlanHostsInput, resolveHosts } from "../hosts/inventory.ts";
import type { LoadedModule } from "../module.ts";
import { resolveSecrets } from "../secrets/resolve.ts";
import { checkCycles, checkHosts, checkItems, checkNeeds, checkTaskNames, checkTemplates, type TaskParts } from "./checks.ts";
import { globBase } from "./glob.ts";
import { parseFields } from "./issues.ts";
import { itemsFromVar, itemShape, resolveItems } from "./items.ts";
import { checkInputs, loadModules } from "./modules.ts";
import type { Plan, Task } from "./plan.ts";
import { PlanHeadEntries, type PlanInput, type RaceAlternativeInput, type TaskInput, TaskSchema } from "./schema.ts";
import { shellQuote } from "./shell_quote.ts";
import { parseWithoutPositions } from "./native_parse.ts";
import { capped, formatPath, PositionsNotKept, type YamlSource } from "./source.ts";
import { callsOf, checkGroups, checkShape, expandSteps, resolveNeeds } from "./steps.ts";
import { compileFields } from "./template.ts";

export interface LoadOptions {
  /** `--var key=value`, applied over the plan's vars. */
  vars?: Record<string, string>;
  /** `--strict`: every warning (an items_from that yields nothing) is an error. */
  strict?: boolean;
}

export { MAX_ERRORS } from "./source.ts";

/** Reads and validates a plan file. Throws PlanErrors or PluginError. */
export async function loadPlan(file: string, options: LoadOptions = {}): Promise<Plan> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PlanErrors([new PlanError(code === "ENOENT" ? "plan file not found" : `cannot read plan file (${code ?? e})`, undefined, file)]);
  }
  return await loadPlanText(text, file, options);
}

/**
 * Parses with the runtime's own YAML parser where it agrees with the YAML
 * package (native_parse.ts), which keeps start-up short. Positions are only
 * needed to report something: the first time a check asks for one, the plan
 * is loaded again from the package's positioned parse, which reports it.
 */
export async function loadPlanText(text: string, file: string, options: LoadOptions = {}): Promise<Plan> {
  const parsed = parseWithoutPositions(text);
  if (parsed !== undefined) {
    const positions = new PositionsNotKept(file);
    try {
      const plan = await planFrom(parsed.value, positions, file, text, options);
      if (!positions.asked) return plan;
    } catch (error) {
      if (!positions.asked) throw error; // a plugin's own error, which has no place in the plan
    }
  }
  const source = await positionedSource(text, file);
  return await planFrom(source.toJS(), source, file, text, options);
}

/**
 * Positions in a loaded plan, for a problem found after loading (an input
 * rendered at `--dry-run`): the plan's text parsed again by the YAML package.
 */
export function positionsOf(plan: Plan): Promise<YamlSource> {
  return positionedSource(plan.text, plan.file);
}

/** The YAML package's parse, which keeps positions; imported only when one is needed. */
async function positionedSource(text: string, file: string) {
  const { PositionedSource } = await import("./positioned_source.ts");
  return PositionedSource.parse(text, file);
}

async function planFrom(raw: unknown, source: YamlSource, file: string, text: string, options: LoadOptions): Promise<Plan> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new PlanErrors([new PlanError("expected a mapping with version and tasks", source.positionOf([]))]);
  }
  const dir = dirname(resolve(file));
  const head = parseFields(PlanHeadEntries, raw, source, [], "a mapping with version and tasks");
  const top = head.parts as Partial<Omit<PlanInput, "tasks">>;
  const written = (raw as Record<string, unknown>).tasks;
  // Groups (`parallel:`) unfold into their tasks: from here on, tasks are the flat list.
  const steps = expandSteps(Array.isArray(written) ? written : [], source);
  const rawTasks = steps.tasks.map((e) => e.raw);
  const at = steps.tasks.map((e) => e.at);
  const parsed = steps.tasks.map((e) => parseFields(TaskSchema.entries, e.raw, source, e.at, "a task as a mapping with name and module"));
  const tasks = parsed.map((p) => p.parts as TaskParts);
  const errors = [...head.errors, ...steps.errors, ...parsed.flatMap((p) => p.errors), ...steps.tasks.flatMap((e) => checkShape(e.raw, e.at, source))];
  // Shared by every instance: frozen, so one module cannot change what the next one sees.
  const vars = top.vars ? deepFreeze({ ...top.vars, ...options.vars }) : undefined;
  const resolved = await resolveHosts(top as PlanHostsInput, dir, source);
  errors.push(...resolved.errors);
  const planHosts = resolved.hosts?.map((h) => h.name);

  const graphErrors = [
    ...checkTaskNames(tasks, at, source),
    ...checkHosts(tasks, at, planHosts, source, resolved.groups),
    ...checkNeeds(tasks, at, [...writtenNames(rawTasks), ...steps.groups.map((g) => g.name)], source),
    ...checkGroups(steps, tasks, source),
  ];
  errors.push(...graphErrors, ...checkItems(tasks, at, source));
  // From here on a task's hosts are a list of host names (`hosts: web` names a group, or one host).
  for (const t of tasks) if (t.hosts !== undefined) t.hosts = expandHostNames(typeof t.hosts === "string" ? [t.hosts] : t.hosts, resolved.groups);
  // `items: "{{ vars.list }}"` becomes the list itself before anything looks at items.
  tasks.forEach((t, i) => {
    if (typeof t.items !== "string") return;
    const found = itemsFromVar(t.items, at[i]!, vars, new Set(Object.keys(options.vars ?? {})), source);
    if (found.error) errors.push(found.error);
    t.items = found.items;
  });
  const needs = resolveNeeds(steps, tasks);
  const stepOf = steps.tasks.map((e) => e.step);
  // Cycles need every task whole and every name, host and need sound.
  if (planHosts && parsed.every((p) => p.complete) && graphErrors.length === 0) {
    errors.push(...checkCycles(taskEdges(tasks as TaskInput[], needs, stepOf, planHosts), tasks as TaskInput[], at, source));
  }

  const secrets = resolveSecrets(top.secrets, dir, source);
  errors.push(...secrets.errors);
  const calls = tasks.map((t, i) => callsOf(t, at[i]!));
  const found = await loadModules(calls.flat(), top.plugins, dir, source);
  errors.push(...found.errors);
  const warnings: PlanError[] = [...secrets.warnings];
  // Names as written: a secret whose value is missing is reported once, not again at every use.
  const secretNames = top.secrets ? Object.keys(top.secrets) : undefined;
  const items = tasks.map((t, i) => {
    const templates = { vars, secrets: secretNames, items: itemShape(rawTasks[i], t), hostVars: hostVarsOf(t.hosts as string[] | undefined, resolved.hosts) };
    // A race's own hint key; then each call's input and hint.
    if (t.race) errors.push(...checkTemplates({ ...t, with: {} }, at[i]!, { ...templates, shellCode: [] }, source));
    for (const call of calls[i]!) {
      const module = call.module !== undefined ? found.modules.get(call.module) : undefined;
      errors.push(...checkTemplates({ ...t, with: call.with, hint: call.hint }, call.at, { ...templates, shellCode: module?.shellCode ?? [] }, source));
      if (module && call.with) errors.push(...checkInputs(module, call.at, call.with, source));
    }
    const result = resolveItems(t, at[i]!, dir, source);
    if (result.error) errors.push(result.error);
    if (result.warning) warnings.push(result.warning);
    return result.items;
  });
  if (options.strict) {
    errors.push(...warnings.splice(0).map((w) => new PlanError(`${w.detail} (an error with --strict)`, w.position, w.path)));
  }
  if (found.pluginFailure) {
    // Alone, a broken plugin is the plugin's error; among plan errors, one more line of the list.
    const { name, error } = found.pluginFailure;
    if (errors.length === 0) throw error;
    errors.push(new PlanError(error.message, source.positionOf(["plugins", name]), formatPath(["plugins", name])));
  }
  if (errors.length > 0) throw new PlanErrors(capped(inFileOrder(errors), (e) => e));

  const plan = head.parts as Omit<PlanInput, "tasks">;
  const built = (tasks as TaskInput[]).map((t, index) => {
    const module = (name: string | undefined) => found.modules.get(name!)!;
    const entry = steps.tasks[index]!;
    const task = toTask(t, index, module(t.module ?? t.race?.[0]?.module), items[index], planHosts!, dir);
    task.needs = needs[index];
    task.step = entry.step;
    task.at = entry.at;
    task.groupLimits = entry.groups.flatMap((g) => (g.limit !== undefined ? [{ name: g.name, limit: g.limit }] : []));
    task.maxFailPercentage = t.max_fail_percentage ?? plan.max_fail_percentage;
    if (t.race) task.race = t.race.map((alt) => raceAlternative(task, alt, module(alt.module)));
    return task;
  });
  return {
    file,
    dir,
    text,
    name: plan.name ?? basename(file, extname(file)),
    hosts: planHosts!,
    hostInfo: Object.fromEntries(resolved.hosts!.map((h) => [h.name, h])),
    parallelism: plan.parallelism,
    vars: vars!,
    secrets: secrets.values,
    resources: plan.resources,
    ...(plan.coordinator !== undefined ? { coordinator: plan.coordinator } : {}),
    tasks: built,
    warnings: warnings.map((w) => w.message),
    groups: steps.groups.map((g) => ({ name: g.name, members: g.members })),
  };
}

/** The vars of each host a task runs on, for checking `{{ host.vars.x }}`; undefined when the hosts are not known. */
function hostVarsOf(taskHosts: string[] | undefined, hosts: Host[] | undefined): Pick<Host, "name" | "vars">[] | undefined {
  if (!hosts) return undefined;
  return hosts.filter((h) => taskHosts === undefined || taskHosts.includes(h.name));
}

function toTask(t: TaskInput, index: number, module: LoadedModule, items: unknown[] | undefined, planHosts: string[], dir: string): Task {
  // A race's own hint and resources are the task's, not its first alternative's module's.
  const own = t.race ? { hint: { kind: "fully_parallel" } as const, resources: {} } : module;
  return {
    index,
    name: t.name,
    module,
    hosts: (t.hosts as string[] | undefined) ?? planHosts,
    input: compileFields(t.with, (key) => (module.shellCode.includes(key) ? shellQuote : undefined)),
    hint: t.hint ?? own.hint,
    resources: mergeResources(own.resources, t.resources),
    overrides: { hint: t.hint !== undefined, resources: Object.keys(t.resources ?? {}) },
    timeoutMs: t.timeout,
    retries: t.retries,
    retryDelayMs: t.retry_delay,
    killGraceMs: t.kill_grace,
    jobserver: t.jobserver === true ? "pipe" : t.jobserver,
    needs: t.needs,
    items: freezeItems(items),
    dataDir: t.items_from && "glob" in t.items_from ? globBase(t.items_from.glob, dir) : undefined,
    step: index,
    at: ["tasks", index],
    groupLimits: [],
  };
}

/** One alternative of a race: the race's task with the alternative's module, input, hint and resources. */
function raceAlternative(task: Task, alt: RaceAlternativeInput, module: LoadedModule): Task {
  return {
    ...task,
    module,
    input: compileFields(alt.with, (key) => (module.shellCode.includes(key) ? shellQuote : undefined)),
    hint: alt.hint ?? module.hint,
    resources: mergeResources(module.resources, alt.resources),
    overrides: { hint: alt.hint !== undefined, resources: Object.keys(alt.resources ?? {}) },
    // The race holds the group limits, once.
    groupLimits: [],
    race: undefined,
  };
}

/** Every task name as written, valid or not: a need that names a malformed one is not "unknown". */
function writtenNames(rawTasks: unknown[]): string[] {
  const names = rawTasks.map((t) => (t !== null && typeof t === "object" ? (t as Record<string, unknown>).name : undefined));
  return [...new Set(names.filter((n): n is string => typeof n === "string"))];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Freezes each item a module is handed, not the list itself: the list is
 * never handed out, and freezing an array of 100,000 items costs JSC ~80 ms.
 */
function freezeItems(items: unknown[] | undefined): unknown[] | undefined {
  if (items) for (let i = 0; i < items.length; i++) deepFreeze(items[i]);
  return items;
}

function inFileOrder(errors: PlanError[]): PlanError[] {
  return errors.sort((a, b) => (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.col ?? 0) - (b.position?.col ?? 0));
}

/** Task-level dependency edges: explicit needs, else the tasks of the previous step on each host (as graph.ts). */
export function taskEdges(tasks: TaskInput[], needs: (string[] | undefined)[], steps: number[], planHosts: string[]): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  tasks.forEach((t, i) => {
    if (needs[i]) return edges.set(t.name, needs[i]!);
    const deps = new Set<string>();
    for (const h of t.hosts ?? planHosts) {
      let step: number | undefined;
      for (let j = i - 1; j >= 0; j--) {
        if (steps[j] === steps[i]) continue;
        if (step !== undefined && steps[j] !== step) break;
        if ((tasks[j]!.hosts ?? planHosts).includes(h)) {
          deps.add(tasks[j]!.name);
          step = steps[j];
        }
      }
    }
    edges.set(t.name, [...deps]);
  });
  return edges;
}

function mergeResources(module: Resources, task: Resources | undefined): Resources {
  return { ...module, ...task };
}
