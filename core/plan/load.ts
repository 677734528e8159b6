/**
 * Plan file → Plan: parse with positions, validate against the schema, check
 * names, cycles and templates, load every module and check each task's
 * inputs against its module's schema. Every problem found is reported at
 * once; nothing runs unless the whole plan is valid.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, extname, resolve } from "node:path";
import { v } from "../deps.ts";
import { describeError, PlanError, PlanErrors, PluginError } from "../errors.ts";
import type { Resources } from "../hints.ts";
import { BUILTIN_NAMES, loadBuiltin, loadPlugin, pluginPath } from "../loader.ts";
import type { LoadedModule } from "../module.ts";
import { didYouMean } from "../suggest.ts";
import { checkCycles, checkHosts, checkItems, checkNeeds, checkTaskNames, checkTemplates } from "./checks.ts";
import { globBase, globFiles } from "./glob.ts";
import { issuesToErrors, parseAt } from "./issues.ts";
import type { Plan, Task } from "./plan.ts";
import { PlanSchema, type TaskInput } from "./schema.ts";
import { formatPath, YamlSource } from "./source.ts";
import { compile, scanReferences } from "./template.ts";

export interface LoadOptions {
  /** `--var key=value`, applied over the plan's vars. */
  vars?: Record<string, string>;
}

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
  const input = parseAt(PlanSchema, raw, source);
  const dir = dirname(resolve(file));
  // Shared by every instance: frozen, so one module cannot change what the next one sees.
  const vars = deepFreeze({ ...input.vars, ...options.vars });

  const errors = [
    ...checkTaskNames(input.tasks, source),
    ...checkHosts(input.tasks, input.hosts, source),
    ...checkItems(input.tasks, source),
    ...checkNeeds(input.tasks, source),
    ...input.tasks.flatMap((t, i) => checkTemplates(t, i, vars, source)),
  ];
  if (errors.length === 0) errors.push(...checkCycles(taskEdges(input.tasks, input.hosts), input.tasks, source));
  if (errors.length > 0) throw new PlanErrors(inFileOrder(errors));

  const modules = await loadModules(input.tasks, input.plugins, dir, source);
  const tasks = input.tasks.map((t, index): Task => {
    const module = modules.get(t.module)!;
    return {
      index,
      name: t.name,
      module,
      hosts: t.hosts ?? input.hosts,
      input: compile(t.with),
      hint: t.hint ?? module.hint,
      resources: mergeResources(module.resources, t.resources),
      timeoutMs: t.timeout,
      killGraceMs: undefined,
      retries: t.retries,
      retryDelayMs: t.retry_delay,
      needs: t.needs,
      items: freezeItems(resolveItems(t, index, dir, source)),
      dataDir: t.items_from && "glob" in t.items_from ? globBase(t.items_from.glob, dir) : undefined,
      position: source.positionOf(["tasks", index]),
    };
  });
  const inputErrors = tasks.flatMap((task, i) => checkInputs(task, input.tasks[i]!.with, source));
  if (inputErrors.length > 0) throw new PlanErrors(inputErrors);
  const warnings = tasks.flatMap((task, i) => {
    const from = input.tasks[i]!.items_from;
    if (task.items?.length !== 0 || !from) return [];
    const what = "glob" in from ? `glob ${JSON.stringify(from.glob)} matched no files` : `file ${from.file} lists no items`;
    return [new PlanError(`${what}: task "${task.name}" has no instances`, source.positionOf(["tasks", i, "items_from"]), formatPath(["tasks", i, "items_from"])).message];
  });

  return {
    file,
    dir,
    name: input.name ?? basename(file, extname(file)),
    hosts: input.hosts,
    parallelism: input.parallelism,
    vars,
    resources: input.resources,
    tasks,
    warnings,
  };
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

async function loadModules(
  tasks: TaskInput[],
  plugins: Record<string, string>,
  dir: string,
  source: YamlSource,
): Promise<Map<string, LoadedModule>> {
  const modules = new Map<string, LoadedModule>();
  const known = [...BUILTIN_NAMES, ...Object.keys(plugins)];
  const errors: PlanError[] = [];
  for (const [i, t] of tasks.entries()) {
    if (modules.has(t.module)) continue;
    const path = plugins[t.module];
    if (path !== undefined) {
      // A PluginError names the plugin file; it is not a position in the plan.
      modules.set(t.module, await loadPlugin(t.module, pluginPath(path, dir)));
      continue;
    }
    const builtin = loadBuiltin(t.module);
    if (builtin) modules.set(t.module, builtin);
    else {
      errors.push(new PlanError(
        `unknown module "${t.module}"${didYouMean(t.module, known)}; expected a built-in (${BUILTIN_NAMES.join(", ")}) or a name from plugins:`,
        source.positionOf(["tasks", i, "module"]),
        formatPath(["tasks", i, "module"]),
      ));
    }
  }
  if (errors.length > 0) throw new PlanErrors(errors);
  return modules;
}

function mergeResources(module: Resources, task: Resources | undefined): Resources {
  return { ...module, ...task };
}

function resolveItems(t: TaskInput, index: number, dir: string, source: YamlSource): unknown[] | undefined {
  if (t.items) return t.items;
  const from = t.items_from;
  if (!from) return undefined;
  if ("glob" in from) return globFiles(from.glob, dir);
  const listPath = resolve(dir, from.file);
  try {
    return readFileSync(listPath, "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  } catch (e) {
    throw new PlanErrors([new PlanError(
      `cannot read items file ${listPath} (${(e as NodeJS.ErrnoException).code ?? e})`,
      source.positionOf(["tasks", index, "items_from", "file"]),
      formatPath(["tasks", index, "items_from", "file"]),
    )]);
  }
}

/**
 * Checks `with:` against the module's input schema before anything runs.
 * Values that are still templates are checked again per instance, after
 * rendering, so issues on them are not errors yet.
 */
function checkInputs(task: Task, rawWith: Record<string, unknown>, source: YamlSource): PlanError[] {
  const schema = task.module.input;
  if (!schema) return [];
  let result: v.SafeParseResult<v.GenericSchema>;
  try {
    result = v.safeParse(schema, rawWith);
  } catch (cause) {
    // A plugin's schema with a check that throws is the plugin's fault, not the plan's.
    throw new PluginError(task.module.source, `its input schema threw while checking tasks[${task.index}].with: ${describeError(cause)}`);
  }
  if (result.success) return [];
  const concrete = result.issues.filter((issue) => !touchesTemplate(rawWith, issue.path?.map((p) => p.key as string | number) ?? []));
  const errors = issuesToErrors(concrete, schema, source, ["tasks", task.index, "with"]);
  return errors.map((e) => new PlanError(`${e.detail} (module ${task.module.name})`, e.position, e.path));
}

function touchesTemplate(value: unknown, path: (string | number)[]): boolean {
  let node: unknown = value;
  for (const key of path) {
    if (typeof node === "string") break;
    if (node === null || typeof node !== "object") return false;
    node = (node as Record<string | number, unknown>)[key];
  }
  return containsTemplate(node);
}

function containsTemplate(value: unknown): boolean {
  if (typeof value === "string") return scanReferences(value).refs.length > 0;
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsTemplate);
  return false;
}
