/**
 * The public face of fanout for module authors: `import type { TaskContext }
 * from "fanout"` in a plugin resolves here. Types and tiny helpers only, no
 * logic: everything a plugin may rely on is listed in this file.
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
import type { ModuleDefinition } from "./module.ts";

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

/**
 * Declares a module with its input type inferred for `run`. Identity at run
 * time: it exists so an editor checks the hint, the resources and `run`
 * together.
 *
 * @example
 * ```ts
 * import { defineModule } from "fanout";
 * export default defineModule({
 *   parallelizationHint: { kind: "rate_limited", per_second: 5, burst: 2 },
 *   async run(input: { url: string }, ctx) {
 *     const res = await fetch(input.url, { signal: ctx.signal });
 *     return { changed: false, data: { status: res.status } };
 *   },
 * });
 * ```
 */
export function defineModule<I = Record<string, unknown>>(definition: ModuleDefinition<I>): ModuleDefinition<I> {
  return definition;
}

/**
 * Fails the instance with a message and no stack trace: the error a module
 * throws when its work failed in an expected way.
 *
 * @example
 * ```ts
 * import { TaskFailure } from "fanout";
 * if (res.status !== 200) throw new TaskFailure(`GET ${url}: status ${res.status}`);
 * ```
 */
export class TaskFailure extends Error {
  override name = "TaskFailure";
}
