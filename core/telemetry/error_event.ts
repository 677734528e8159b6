/**
 * A thrown error as `error` events (see ErrorEvent), for `--json` readers to
 * learn why fanout stopped without parsing stderr.
 */
import { CoordinatorError, describeError, PlanError, PlanErrors, PluginError, type SourcePosition, UsageError } from "../errors.ts";
import type { ErrorEvent } from "./events.ts";

/** Which kind of problem `error` is; anything unexpected is "internal" (a bug). */
export function errorKind(error: unknown): ErrorEvent["kind"] {
  if (error instanceof PlanErrors || error instanceof PlanError) return "plan";
  if (error instanceof PluginError) return "plugin";
  if (error instanceof CoordinatorError) return "coordinator";
  // cac's own parse errors (a missing argument, a missing option value).
  if (error instanceof UsageError || (error instanceof Error && error.name === "CACError")) return "usage";
  return "internal";
}

/** One event per problem: a PlanErrors holds several. */
export function errorEvents(error: unknown, exitCode: number): ErrorEvent[] {
  const kind = errorKind(error);
  const event = (message: string, at: { file?: string; position?: SourcePosition; path?: string } = {}): ErrorEvent => ({
    type: "error",
    kind,
    exit_code: exitCode,
    file: at.position?.file ?? at.file ?? null,
    line: at.position?.line ?? null,
    col: at.position?.col ?? null,
    path: at.path || null,
    message,
  });
  if (error instanceof PlanErrors) return error.errors.map((e) => event(e.message, e));
  if (error instanceof PlanError) return [event(error.message, error)];
  if (error instanceof PluginError) return [event(describeError(error), { file: error.pluginPath, position: positionOf(error) })];
  return [event(describeError(error))];
}

/** A plugin error may carry where in the plugin it happened (a syntax error). */
function positionOf(error: PluginError): SourcePosition | undefined {
  const position = (error as { position?: SourcePosition }).position;
  return typeof position?.line === "number" ? position : undefined;
}
