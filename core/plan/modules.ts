/**
 * The modules a plan names: found (a built-in or a `plugins:` file, which is
 * imported, so its top-level code runs), then each task's `with:` checked
 * against its module's input schema.
 */
import { join } from "node:path";
import * as v from "../deps_valibot.ts";
import { describeError, PlanError, PluginError } from "../errors.ts";
import { BUILTIN_NAMES, loadBuiltin, loadPlugin, pluginPath } from "../loader.ts";
import type { LoadedModule } from "../module.ts";
import { didYouMean } from "../suggest.ts";
import type { ModuleCallParts } from "./steps.ts";
import { issuesToErrors } from "./issues.ts";
import { refusedSpecifier } from "./plugin_specifier.ts";
import { formatPath, type PathKey, type YamlSource } from "./source.ts";
import { scanReferences } from "./template.ts";

export interface ModulesFound {
  modules: Map<string, LoadedModule>;
  /** Unknown module names, at each task that names one. */
  errors: PlanError[];
  /** The first plugin that failed to load, and its `plugins:` name. */
  pluginFailure?: { name: string; error: PluginError };
}

/**
 * `plugins` is undefined when the plan's `plugins:` is malformed: a name
 * that is not a built-in then cannot be judged, and is left alone.
 */
export async function loadModules(calls: readonly ModuleCallParts[], plugins: Record<string, string> | undefined, dir: string, source: YamlSource): Promise<ModulesFound> {
  const found: ModulesFound = { modules: new Map(), errors: [] };
  const known = [...BUILTIN_NAMES, ...Object.keys(plugins ?? {})];
  // Every entry, used by a task or not: a URL is never imported, and is an error wherever it is written.
  const refused = new Set<string>();
  for (const [name, path] of Object.entries(plugins ?? {})) {
    const problem = refusedSpecifier(path);
    if (!problem) continue;
    refused.add(name);
    found.errors.push(new PlanError(problem, source.positionOf(["plugins", name]), formatPath(["plugins", name])));
  }
  for (const { module: name, at } of calls) {
    if (name === undefined || found.modules.has(name)) continue;
    const path = plugins && Object.hasOwn(plugins, name) ? plugins[name] : undefined;
    if (path !== undefined) {
      if (found.pluginFailure || refused.has(name)) continue;
      try {
        found.modules.set(name, await loadPlugin(name, pluginPath(path, dir), { cacheDir: join(dir, ".fanout", "cache") }));
      } catch (error) {
        if (!(error instanceof PluginError)) throw error;
        found.pluginFailure = { name, error };
      }
      continue;
    }
    // Never `constructor` or `toString` off the registry's prototype.
    const builtin = BUILTIN_NAMES.includes(name) ? await loadBuiltin(name) : undefined;
    if (builtin) found.modules.set(name, builtin);
    else if (plugins) {
      found.errors.push(new PlanError(
        `unknown module "${name}"${didYouMean(name, known)}; expected a built-in (${BUILTIN_NAMES.join(", ")}) or a name from plugins:`,
        source.positionOf([...at, "module"]),
        formatPath([...at, "module"]),
      ));
    }
  }
  return found;
}

/**
 * Checks `with:` against the module's input schema before anything runs.
 * Values that are still templates are checked again per instance, after
 * rendering, so issues on them are not errors yet.
 */
export function checkInputs(module: LoadedModule, at: readonly PathKey[], rawWith: Record<string, unknown>, source: YamlSource): PlanError[] {
  const schema = module.input;
  if (!schema) return [];
  let result: v.SafeParseResult<v.GenericSchema>;
  try {
    result = v.safeParse(schema, rawWith);
  } catch (cause) {
    // A plugin's schema with a check that throws is the plugin's fault, not the plan's.
    throw new PluginError(module.source, `its input schema threw while checking ${formatPath([...at, "with"])}: ${describeError(cause)}`);
  }
  if (result.success) return [];
  const concrete = result.issues.filter((issue) => !touchesTemplate(rawWith, issue.path?.map((p) => p.key as string | number) ?? []));
  const errors = issuesToErrors(concrete, schema, source, [...at, "with"]);
  return errors.map((e) => new PlanError(`${e.detail} (module ${module.name})`, e.position, e.path));
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
