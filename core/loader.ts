/**
 * Finds the module a task names: a built-in, or a plugin file from the plan's
 * `plugins:` (relative to the plan). A plugin's exports are validated here,
 * once, so a bad hint or a missing `run` stops the plan before anything runs.
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { builtinModules } from "../plugins/index.ts";
import * as v from "./deps_valibot.ts";
import { describeError, PluginError } from "./errors.ts";
import { issueText } from "./issue_text.ts";
import { type LoadedModule, type ModuleDefinition, ModuleExportsSchema } from "./module.ts";
import { hasSubstitute, type ImportOptions, importPlugin } from "./runtime/import_plugin.ts";
import { importProblemOf, stripAnsi } from "./runtime/load_error.ts";
import { guardRuntimeStderr } from "./runtime/stderr.ts";
import { guardRuntimeStdout } from "./runtime/stdout.ts";
import { noteUserCode } from "./runtime/user_code.ts";
import { syntaxProblemOf } from "./runtime/syntax_error.ts";

export const BUILTIN_NAMES = Object.keys(builtinModules);

/** A built-in module by name, imported now and validated like any plugin. */
export async function loadBuiltin(name: string): Promise<LoadedModule | undefined> {
  if (!Object.hasOwn(builtinModules, name)) return undefined;
  const def = (await builtinModules[name]!()).default;
  return validateModule(def, name, `builtin:${name}`);
}

/** Resolves a plugin path against the plan's directory. */
export function pluginPath(path: string, planDir: string): string {
  return isAbsolute(path) ? path : resolve(planDir, path);
}

/** Imports a plugin file and validates its exports. */
export async function loadPlugin(name: string, absolutePath: string, options: ImportOptions = {}): Promise<LoadedModule> {
  if (!existsSync(absolutePath) && !hasSubstitute(absolutePath)) throw new PluginError(absolutePath, "file not found");
  // A plugin may write to process.stdout or process.stderr itself, and leave timers or sockets behind.
  guardRuntimeStdout();
  guardRuntimeStderr();
  noteUserCode();
  let exports: Record<string, unknown>;
  try {
    exports = await importPlugin(absolutePath, options);
  } catch (cause) {
    const problem = importProblemOf(cause, absolutePath);
    if (problem) throw new PluginError(absolutePath, problem.detail, { position: problem.position });
    const syntax = syntaxProblemOf(cause);
    if (syntax) {
      const { file, line, col, message, more } = syntax;
      const others = more > 0 ? ` (and ${more} more)` : "";
      throw new PluginError(absolutePath, `syntax error: ${stripAnsi(message)}${others}`, { position: { file, line, col } });
    }
    // The cause's text goes into the message itself; attaching it too would print it twice.
    throw new PluginError(absolutePath, `could not be loaded: ${stripAnsi(describeError(cause))}`);
  }
  try {
    return validateModule(moduleShape(exports), name, absolutePath);
  } catch (error) {
    // An export whose getter throws, say: still the plugin's fault, named as such.
    if (error instanceof PluginError) throw error;
    throw new PluginError(absolutePath, `its exports could not be read: ${describeError(error)}`);
  }
}

/**
 * Accepts the documented forms: `export default async function run`,
 * `export default defineModule({...})`, or a named `export function run`,
 * with `parallelizationHint` / `resources` / `input` as named exports or
 * inside the default object.
 */
function moduleShape(exports: Record<string, unknown>): Record<string, unknown> {
  const def = exports.default;
  if (def && typeof def === "object") return { ...exports, ...def };
  return { ...exports, run: typeof def === "function" ? def : exports.run };
}

// deno-lint-ignore no-explicit-any
function validateModule(shape: ModuleDefinition<any> | Record<string, unknown>, name: string, source: string): LoadedModule {
  const result = v.safeParse(ModuleExportsSchema, shape);
  if (!result.success) {
    throw new PluginError(source, `invalid module exports: ${result.issues.map(issueText).join("; ")}`);
  }
  const out = result.output;
  return {
    name,
    source,
    hint: out.parallelizationHint ?? { kind: "fully_parallel" },
    resources: out.resources ?? {},
    input: out.input,
    description: out.description,
    shellCode: out.shellCode ?? [],
    run: out.run as LoadedModule["run"],
  };
}
