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
import type { LoadedModule } from "../module.ts";
import { checkCycles, checkHosts, checkItems, checkNeeds, checkTaskNames, checkTemplates, type TaskParts } from "./checks.ts";
import { globBase } from "./glob.ts";
import { parseFields } from "./issues.ts";
import { itemShape, resolveItems } from "./items.ts";
import { checkInputs, loadModules } from "./modules.ts";
import type { Plan, Task } from "./plan.ts";
import { PlanHeadEntries, type PlanInput, type TaskInput, TaskSchema } from "./schema.ts";
import { shellQuote } from "./shell_quote.ts";
import { capped, formatPath, YamlSource } from "./source.ts";
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

export async function loadPlanText(text: string, file: string, options: LoadOptions = {}): Promise<Plan> {
  const source = YamlSource.parse(text, file);
  const raw = source.toJS();
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new PlanErrors([new PlanError("expected a mapping with version and tasks", source.positionOf([]))]);
  }
  const dir = dirname(resolve(file));
  const head = parseFields(PlanHeadEntries, raw, source, [], "a mapping with version and tasks");
  const top = head.parts as Partial<Omit<PlanInput, "tasks">>;
  const written = (raw as Record<string, unknown>).tasks;
  const rawTasks: unknown[] = Array.isArray(written) ? written : [];
  const parsed = rawTasks.map((t, i) => parseFields(TaskSchema.entries, t, source, ["tasks", i], "a task as a mapping with name and module"));
  const tasks = parsed.map((p) => p.parts as TaskParts);
  const errors = [...head.errors, ...parsed.flatMap((p) => p.errors)];
  // Shared by every instance: frozen, so one module cannot change what the next one sees.
  const vars = top.vars ? deepFreeze({ ...top.vars, ...options.vars }) : undefined;

  const graphErrors = [
    ...checkTaskNames(tasks, source),
    ...checkHosts(tasks, top.hosts, source),
    ...checkNeeds(tasks, writtenNames(rawTasks), source),
  ];
  errors.push(...graphErrors, ...checkItems(tasks, source));
  // Cycles need every task whole and every name, host and need sound.
  if (top.hosts && parsed.every((p) => p.complete) && graphErrors.length === 0) {
    errors.push(...checkCycles(taskEdges(tasks as TaskInput[], top.hosts), tasks as TaskInput[], source));
  }

  const found = await loadModules(tasks, top.plugins, dir, source);
  errors.push(...found.errors);
  const warnings: PlanError[] = [];
  const items = tasks.map((t, i) => {
    const module = t.module !== undefined ? found.modules.get(t.module) : undefined;
    errors.push(...checkTemplates(t, i, { vars, items: itemShape(rawTasks[i], t), shellCode: module?.shellCode ?? [] }, source));
    if (module && t.with) errors.push(...checkInputs(module, i, t.with, source));
    const result = resolveItems(t, i, dir, source);
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
  return {
    file,
    dir,
    name: plan.name ?? basename(file, extname(file)),
    hosts: plan.hosts,
    parallelism: plan.parallelism,
    vars: vars!,
    resources: plan.resources,
    tasks: (tasks as TaskInput[]).map((t, index) => toTask(t, index, found.modules.get(t.module)!, items[index], plan.hosts, dir, source)),
    warnings: warnings.map((w) => w.message),
  };
}

function toTask(t: TaskInput, index: number, module: LoadedModule, items: unknown[] | undefined, planHosts: string[], dir: string, source: YamlSource): Task {
  return {
    index,
    name: t.name,
    module,
    hosts: t.hosts ?? planHosts,
    input: compileFields(t.with, (key) => (module.shellCode.includes(key) ? shellQuote : undefined)),
    hint: t.hint ?? module.hint,
    resources: mergeResources(module.resources, t.resources),
    timeoutMs: t.timeout,
    retries: t.retries,
    retryDelayMs: t.retry_delay,
    killGraceMs: t.kill_grace,
    needs: t.needs,
    items: freezeItems(items),
    dataDir: t.items_from && "glob" in t.items_from ? globBase(t.items_from.glob, dir) : undefined,
    position: source.positionOf(["tasks", index]),
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

/** Task-level dependency edges: explicit needs, else the previous task on each host. */
export function taskEdges(tasks: TaskInput[], planHosts: string[]): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  tasks.forEach((t, i) => {
    if (t.needs) return edges.set(t.name, t.needs);
    const deps = new Set<string>();
    for (const h of t.hosts ?? planHosts) {
      for (let j = i - 1; j >= 0; j--) {
        if ((tasks[j]!.hosts ?? planHosts).includes(h)) {
          deps.add(tasks[j]!.name);
          break;
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
