/**
 * The public face of fanout for module authors: `import type { TaskContext }
 * from "fanout"` in a plugin resolves here. Types and tiny helpers only, no
 * logic: everything a plugin may rely on is listed in this file. Its values
 * live in sdk.ts, which fanout's own code imports: the compiled program never
 * loads this file, whose `v` (valibot re-exported as a namespace) would cost
 * every run's start (core/deps_valibot.ts); a plugin's "fanout" there is sdk.ts
 * plus valibot (core/runtime/import_plugin.ts).
 *
 * @example
 * ```ts
 * import type { TaskContext } from "fanout";
 * export const parallelizationHint = "host_exclusive";
 * export default async function run(input: { package: string }, ctx: TaskContext) {
 *   const r = await ctx.exec(["apt-get", "install", "-y", input.package]);
 *   return { changed: true, data: { stdout: r.stdout } };
 * }
 * ```
 * @module
 */
export type {
  HintInput,
  Logger,
  ModuleDefinition,
  ResourcesInput,
  RunFunction,
  TaskContext,
  TaskExecOptions,
  TaskResult,
} from "./module.ts";
export type { ExecResult } from "./runtime/exec_types.ts";
export type { FanoutEvent, RunSummary, Status } from "./telemetry/events.ts";

/**
 * valibot, the running program's own copy, for a module's `input` schema:
 * plugins get it without installing anything.
 *
 * @example
 * ```ts
 * import { v } from "fanout";
 * export const input = v.strictObject({ url: v.string() });
 * ```
 */
export { v } from "./deps.ts";

export { defineModule, TaskFailure } from "./sdk.ts";
