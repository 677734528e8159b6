/**
 * The SDK's values, for fanout's own code and built-in modules: plugins
 * import them from "fanout" (core/mod.ts, which re-exports them), where
 * they are the same objects, so a `TaskFailure` a plugin throws is one
 * fanout recognises.
 */
import type { ModuleDefinition } from "./module.ts";

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
