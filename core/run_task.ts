/**
 * One attempt of one instance: render its input, call the module with a
 * context, and turn whatever happens (a result, a throw, a timeout, an abort,
 * a module that never returns) into an Outcome value. Nothing here throws:
 * task failures are values, so the scheduler never unwinds through a plugin.
 */
import { v } from "./deps.ts";
import { issueText } from "./issue_text.ts";
import type { Instance } from "./graph.ts";
import type { Logger, TaskContext, TaskExecOptions } from "./module.ts";
import { fromResult, thrownText } from "./module_result.ts";
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
  /** The module did not return after it was cancelled: its guards must stay held. */
  stuck?: boolean;
}

/** Abort reasons the scheduler uses; anything else aborting counts as cancelled. */
export class TimeoutReason extends Error {
  override name = "TimeoutError";
}
export class StopReason extends Error {
  override name = "StopReason";
}
/** The module's own code threw where no one could catch it (a timer, an unhandled rejection). */
export class FaultReason extends Error {
  override name = "FaultReason";
}

export interface AttemptEnv {
  clock: Clock;
  planDir: string;
  vars: Record<string, unknown>;
  /** SIGTERM → SIGKILL for a task that sets no kill_grace. */
  killGraceMs: number;
  log(level: LogEvent["level"], id: string, message: string): void;
}

/**
 * After a cancel, how long beyond the kill grace a module may take to return
 * (its processes are SIGKILLed at the grace; this covers reaping them and the
 * module's own clean-up). Past it the call is stuck.
 */
export const SETTLE_MARGIN_MS = 1000;

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

type Settled = { value: unknown } | { error: unknown };

/**
 * Runs one attempt to its end. An abort (timeout, fail-fast, Ctrl-C) does not
 * end it at once: the module is told through its signal, its process groups
 * are terminated, and the attempt ends when the module call has returned —
 * so the guards it holds are released only once its processes are gone. A
 * call that does not return within the kill grace (plus a margin) is stuck:
 * the outcome says so and the scheduler keeps its guards.
 */
export async function runAttempt(inst: Instance, attempt: number, controller: AbortController, env: AttemptEnv): Promise<Outcome> {
  const { task } = inst;
  const signal = controller.signal;
  const graceMs = task.killGraceMs ?? env.killGraceMs;
  let timer: unknown;
  if (task.timeoutMs !== undefined) {
    timer = env.clock.setTimer(() => controller.abort(new TimeoutReason(`timed out after ${task.timeoutMs}ms`)), task.timeoutMs);
  }
  try {
    const scope: TemplateScope = { host: inst.host, item: inst.item, vars: env.vars, task: task.name };
    let input: unknown;
    try {
      input = task.input(scope);
    } catch (error) {
      return failed(thrownText(error));
    }
    if (task.module.input) {
      const parsed = v.safeParse(task.module.input, input);
      if (!parsed.success) return failed(`invalid input for module ${task.module.name}: ${parsed.issues.map(issueText).join("; ")}`);
      input = parsed.output;
    }
    const ctx = makeContext(inst, attempt, signal, graceMs, env);
    // A synchronous throw from run() becomes a rejection like any other.
    const work: Promise<Settled> = Promise.resolve()
      .then(() => task.module.run(input, ctx))
      .then((value) => ({ value }), (error: unknown) => ({ error }));
    const first = await Promise.race([work, aborted(signal)]);
    if (first !== undefined && !signal.aborted) {
      if ("error" in first) return failed(thrownText(first.error));
      const { outcome, warnings } = fromResult(first.value);
      for (const w of warnings) env.log("warn", inst.id, w);
      return outcome;
    }
    // Cancelled: the module has been told; wait for it to return, within bounds.
    const settled = first ?? await within(work, graceMs + SETTLE_MARGIN_MS, env.clock);
    const outcome = fromAbort(signal.reason);
    if (settled !== undefined) return outcome;
    return {
      ...outcome,
      status: "cancelled",
      stuck: true,
      error: `${outcome.error}; module ${task.module.name} did not return within ${graceMs + SETTLE_MARGIN_MS}ms of being cancelled (stuck): its guards stay held`,
    };
  } finally {
    if (timer !== undefined) env.clock.clearTimer(timer);
  }
}

/** Resolves (with undefined) when the signal aborts; never rejects. */
function aborted(signal: AbortSignal): Promise<undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(undefined), { once: true }));
}

/** The work's result, or undefined when it takes longer than `ms`. */
function within<T>(work: Promise<T>, ms: number, clock: Clock): Promise<T | undefined> {
  let timer: unknown;
  const timeout = new Promise<undefined>((resolve) => (timer = clock.setTimer(() => resolve(undefined), ms)));
  return Promise.race([work, timeout]).finally(() => clock.clearTimer(timer));
}

/** An outcome without a result: failed, or ended without running (skipped, cancelled). */
export function failed(error: string, status: Status = "failed"): Outcome {
  return { status, changed: false, error, data: EMPTY, bytes: 0 };
}

function fromAbort(reason: unknown): Outcome {
  if (reason instanceof TimeoutReason) return failed(reason.message, "timed_out");
  if (reason instanceof FaultReason) return failed(reason.message);
  return failed(reason instanceof Error ? reason.message : "cancelled", "cancelled");
}

function makeContext(inst: Instance, attempt: number, signal: AbortSignal, killGraceMs: number, env: AttemptEnv): TaskContext {
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
      return exec(command, { cwd: env.planDir, killGraceMs, ...rest, signal: own ?? signal });
    },
  };
}
