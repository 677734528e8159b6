/**
 * One attempt of one instance: render its input, call the module with a
 * context, and turn whatever happens (a result, a throw, a timeout, an abort,
 * a module that never returns) into an Outcome value. Nothing here throws:
 * task failures are values, so the scheduler never unwinds through a plugin.
 */
import { v } from "./deps.ts";
import { describeError } from "./errors.ts";
import { issueText } from "./issue_text.ts";
import type { Instance } from "./graph.ts";
import { TaskFailure } from "./mod.ts";
import type { Logger, TaskContext, TaskExecOptions, TaskResult } from "./module.ts";
import type { TemplateScope } from "./plan/template.ts";
import type { Clock } from "./runtime/clock.ts";
import { exec } from "./runtime/spawn.ts";
import type { LogEvent, Status } from "./telemetry/events.ts";

export interface Outcome {
  status: Status;
  changed: boolean;
  error: string | null;
  data: Record<string, unknown>;
  bytes: number;
}

/** Abort reasons the scheduler uses; anything else aborting counts as cancelled. */
export class TimeoutReason extends Error {
  override name = "TimeoutError";
}
export class StopReason extends Error {
  override name = "StopReason";
}

export interface AttemptEnv {
  clock: Clock;
  planDir: string;
  vars: Record<string, unknown>;
  log(level: LogEvent["level"], id: string, message: string): void;
  /** Told about every module call in flight, so the run can wait for aborted ones to clean up. */
  track?(work: Promise<unknown>): void;
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

export async function runAttempt(inst: Instance, attempt: number, controller: AbortController, env: AttemptEnv): Promise<Outcome> {
  const { task } = inst;
  const signal = controller.signal;
  let timer: unknown;
  if (task.timeoutMs !== undefined) {
    timer = env.clock.setTimer(() => controller.abort(new TimeoutReason(`timed out after ${task.timeoutMs}ms`)), task.timeoutMs);
  }
  let onAbort: (() => void) | undefined;
  try {
    const scope: TemplateScope = { host: inst.host, item: inst.item, vars: env.vars, task: task.name };
    let input = task.input(scope);
    if (task.module.input) {
      const parsed = v.safeParse(task.module.input, input);
      if (!parsed.success) return failed(`invalid input for module ${task.module.name}: ${parsed.issues.map(issueText).join("; ")}`);
      input = parsed.output;
    }
    const ctx = makeContext(inst, attempt, signal, env);
    // A module that ignores its signal must not hold the run: the abort wins the race.
    const abortion = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    const work = Promise.resolve(task.module.run(input, ctx));
    env.track?.(work);
    const result = await Promise.race([work, abortion]);
    if (signal.aborted) return fromAbort(signal.reason);
    return fromResult(result);
  } catch (error) {
    if (signal.aborted) return fromAbort(signal.reason);
    return failed(thrownText(error));
  } finally {
    if (timer !== undefined) env.clock.clearTimer(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

/**
 * A TaskFailure is an expected failure: its message (and causes) alone.
 * Any other error class a module throws is named ("TypeError: …"): it is
 * likely a bug, and the class says where to look.
 */
function thrownText(error: unknown): string {
  const text = describeError(error);
  if (error instanceof TaskFailure || !(error instanceof Error) || error.name === "Error") return text;
  return `${error.name}: ${text}`;
}

/** An outcome without a result: failed, or ended without running (skipped, cancelled). */
export function failed(error: string, status: Status = "failed"): Outcome {
  return { status, changed: false, error, data: EMPTY, bytes: 0 };
}

function fromAbort(reason: unknown): Outcome {
  if (reason instanceof TimeoutReason) return failed(reason.message, "timed_out");
  return failed(reason instanceof Error ? reason.message : "cancelled", "cancelled");
}

function fromResult(result: TaskResult | void | unknown): Outcome {
  if (result === undefined || result === null) return { status: "ok", changed: false, error: null, data: EMPTY, bytes: 0 };
  if (typeof result !== "object") return { status: "ok", changed: false, error: null, data: { value: result }, bytes: 0 };
  const r = result as TaskResult;
  const data = r.data && typeof r.data === "object" ? r.data : EMPTY;
  if (data !== EMPTY) {
    try {
      JSON.stringify(data);
    } catch (e) {
      return failed(`the module returned data that is not JSON-serialisable: ${describeError(e)}`);
    }
  }
  const bytes = typeof r.bytes === "number" && Number.isFinite(r.bytes) ? r.bytes : 0;
  if (r.failed) return { status: "failed", changed: Boolean(r.changed), error: r.error ?? "the module reported failure", data, bytes };
  return { status: "ok", changed: Boolean(r.changed), error: null, data, bytes };
}

function makeContext(inst: Instance, attempt: number, signal: AbortSignal, env: AttemptEnv): TaskContext {
  const log = (level: LogEvent["level"]) => (message: string) => env.log(level, inst.id, String(message));
  const logger: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
  return {
    id: inst.id,
    task: inst.task.name,
    host: inst.host,
    item: inst.item,
    vars: env.vars,
    attempt,
    planDir: env.planDir,
    signal,
    log: logger,
    exec(argv: readonly string[], options: TaskExecOptions = {}) {
      const { shell, signal: own, ...rest } = options;
      const command = shell ? ["/bin/sh", "-c", argv.join(" ")] : argv;
      return exec(command, { cwd: env.planDir, ...rest, signal: own ?? signal });
    },
  };
}
