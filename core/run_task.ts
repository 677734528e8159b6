/**
 * One attempt of one instance: render its input, call the module with a
 * context, and turn whatever happens (a result, a throw, a timeout, an abort,
 * a module that never returns) into an Outcome value. Nothing here throws:
 * task failures are values, so the scheduler never unwinds through a plugin.
 */
import * as v from "./deps_valibot.ts";
import { issueText } from "./issue_text.ts";
import type { Instance } from "./graph.ts";
import type { CommandJobserver, JobserverStyle } from "./jobserver.ts";
import type { Host } from "./hosts/host.ts";
import type { Logger, TaskContext } from "./module.ts";
import { fromResult, thrownText } from "./module_result.ts";
import type { Task } from "./plan/plan.ts";
import { isConstant, type TemplateScope } from "./plan/template.ts";
import type { Clock } from "./runtime/clock.ts";
import type { OutputObserver } from "./runtime/output_observer.ts";
import { exec } from "./runtime/spawn.ts";
import { execRemote, type SshConnections, UnreachableError } from "./runtime/ssh.ts";
import type { SshTarget } from "./ssh/target.ts";
import type { LogEvent, Status } from "./telemetry/events.ts";

export interface Outcome {
  status: Status;
  changed: boolean;
  error: string | null;
  data: Record<string, unknown>;
  bytes: number;
  /** The module did not return after it was cancelled: its guards must stay held. */
  stuck?: boolean;
  /** A race's alternative that succeeded (core/race.ts). */
  winner?: { index: number; module: string };
  /** Status `cached`: the journal's run in which this instance ended ok. */
  cachedFrom?: number;
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
  /** The plan's secrets, for `{{ secrets.x }}` and ctx.secrets. */
  secrets: Readonly<Record<string, string>>;
  /** The plan's hosts by name (Plan.hostInfo), for `{{ host.vars.x }}`. */
  hosts?: Readonly<Record<string, Host>>;
  /** SIGTERM → SIGKILL for a task that sets no kill_grace. */
  killGraceMs: number;
  /** False when nothing reads an instance's data or error (a quiet run without --json): see TaskContext.keepOutput. */
  keepOutput: boolean;
  /** The run's ssh masters: an instance on an ssh host connects (once per host) before its module is called. */
  ssh?: SshConnections;
  /** `--output tag`: an observer per ctx.exec call, told the command's output as it is read. */
  observeOutput?: (id: string) => OutputObserver;
  /** The make jobserver each command is given, by its task's `jobserver:` setting (core/jobserver.ts). */
  jobserver?: (style: JobserverStyle) => CommandJobserver;
  log(level: LogEvent["level"], id: string, message: string): void;
}

/**
 * After a cancel, how long beyond the kill grace a module may take to return
 * (its processes are SIGKILLed at the grace; this covers reaping them and the
 * module's own clean-up). Past it the call is stuck.
 */
export const SETTLE_MARGIN_MS = 1000;

/**
 * On an ssh host, ending the remote group takes round trips over the
 * master on top of the grace (core/runtime/ssh.ts bounds them by 15 s).
 */
const SSH_SETTLE_MARGIN_MS = 16_000;

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * One attempt's module call, from rendering its input to its outcome. An
 * abort (timeout, fail-fast, Ctrl-C) does not end it at once: the module is
 * told through its signal, its process groups are terminated, and the
 * outcome comes when the module call has returned — so the guards the
 * attempt holds are released only once its processes are gone. A call that
 * does not return within the kill grace (plus a margin) is stuck: the
 * outcome says so and the scheduler keeps its guards.
 *
 * `outcome` resolves, never rejects: task failures are values. Per attempt:
 * this object, its AbortController, the context, one promise; a timer only
 * when the task has a timeout or the call is cancelled.
 */
export class ModuleCall {
  readonly outcome: Promise<Outcome>;
  private readonly controller = new AbortController();
  private resolve!: (outcome: Outcome) => void;
  /** The outcome is given: nothing more happens. */
  private ended = false;
  /** The module's call has returned (or thrown). */
  private returned = false;
  private timer: unknown;
  private readonly graceMs: number;
  /** Waiting for the host's ssh master: the module has not been called yet. */
  private connecting = false;

  /** `task`: the instance's task, or one alternative of its race. */
  constructor(private readonly inst: Instance, private readonly attempt: number, private readonly env: AttemptEnv, private readonly task: Task = inst.task) {
    this.outcome = new Promise((resolve) => (this.resolve = resolve));
    this.graceMs = task.killGraceMs ?? env.killGraceMs;
    this.call();
  }

  /** Tells the running module to stop; the outcome comes when it has. */
  abort(reason: Error): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    if (this.ended) return;
    // Nothing of the module runs yet: the connection is the run's, not this attempt's.
    if (this.connecting) return this.end(fromAbort(reason));
    // The timeout's timer is done with; now the module has grace + margin to return.
    this.clearTimer();
    const ms = this.graceMs + (this.env.ssh?.has(this.inst.host) ? SSH_SETTLE_MARGIN_MS : SETTLE_MARGIN_MS);
    this.timer = this.env.clock.setTimer(() => this.stuck(ms), ms);
  }

  private call(): void {
    const { inst, env, task } = this;
    let input: unknown;
    try {
      input = inputOf(inst, task, env.vars, env.secrets, env.hosts);
    } catch (error) {
      return this.end(failed(error instanceof InvalidInput ? error.message : thrownText(error)));
    }
    if (task.timeoutMs !== undefined) {
      const ms = task.timeoutMs;
      this.timer = env.clock.setTimer(() => this.abort(new TimeoutReason(`timed out after ${ms}ms`)), ms);
    }
    const ssh = env.ssh;
    if (ssh?.has(inst.host)) {
      const down = ssh.unreachable(inst.host);
      if (down) return this.end(ssh.firstToHear(inst.host) ? failed(down.message, "unreachable") : failed(`skipped: ${down.message}`, "skipped"));
      this.connecting = true;
      ssh.connect(inst.host).then((connected) => {
        this.connecting = false;
        if (this.ended) return;
        if ("unreachable" in connected) {
          ssh.firstToHear(inst.host);
          return this.end(failed(connected.unreachable.message, "unreachable"));
        }
        this.callModule(input, connected.target);
      });
      return;
    }
    this.callModule(input, undefined);
  }

  private callModule(input: unknown, target: SshTarget | undefined): void {
    const { inst, env, task } = this;
    const ctx = new Context(inst, this.attempt, this.controller.signal, this.graceMs, env, target);
    let result: unknown;
    try {
      result = task.module.run(input, ctx);
    } catch (error) {
      return this.returnedWith(undefined, error, true);
    }
    if (result !== null && (typeof result === "object" || typeof result === "function")) {
      // Adopted as an await would: a thenable is followed, and a `then` that throws is a rejection, not our crash.
      Promise.resolve(result).then((value) => this.returnedWith(value, undefined, false), (error: unknown) => this.returnedWith(undefined, error, true));
    } else {
      this.returnedWith(result, undefined, false);
    }
  }

  private returnedWith(value: unknown, error: unknown, threw: boolean): void {
    this.returned = true;
    if (this.ended) return;
    const signal = this.controller.signal;
    if (signal.aborted) return this.end(fromAbort(signal.reason));
    if (threw && isUnreachable(error)) {
      // ssh failed before the command ran (the connection was gone): later tasks on the host are skipped.
      this.env.ssh?.lost(error);
      return this.end(failed(error.message, "unreachable"));
    }
    if (threw) return this.end(failed(thrownText(error)));
    const { outcome, warnings } = fromResult(value);
    for (const w of warnings) this.env.log("warn", this.inst.id, w);
    this.end(outcome);
  }

  /** Cancelled, and the module has not returned within `ms`. */
  private stuck(ms: number): void {
    this.timer = undefined;
    if (this.returned || this.ended) return;
    const outcome = fromAbort(this.controller.signal.reason);
    this.end({
      ...outcome,
      status: "cancelled",
      stuck: true,
      error: `${outcome.error}; module ${this.task.module.name} did not return within ${ms}ms of being cancelled (stuck): its guards stay held`,
    });
  }

  private end(outcome: Outcome): void {
    this.ended = true;
    this.clearTimer();
    this.resolve(outcome);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.env.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}

class InvalidInput extends Error {}

/** Whether a thrown value is ssh's "unreachable"; a hostile value (a Proxy whose traps throw) is not. */
function isUnreachable(error: unknown): error is UnreachableError {
  try {
    return error instanceof UnreachableError;
  } catch {
    return false;
  }
}

/**
 * The input an attempt would be given, rendered and checked exactly as a run
 * does it, or why it cannot be: for `--dry-run`, which runs nothing.
 */
export function checkedInput(
  inst: Instance,
  task: Task,
  vars: Record<string, unknown>,
  secrets: Readonly<Record<string, string>>,
  hosts?: Readonly<Record<string, Host>>,
): { input: unknown } | { error: string } {
  try {
    return { input: inputOf(inst, task, vars, secrets, hosts) };
  } catch (error) {
    return { error: error instanceof InvalidInput ? error.message : thrownText(error) };
  }
}

/**
 * Validated inputs of tasks whose `with:` has no template: the same for every
 * instance, so checked once and shared, frozen like vars and items (one
 * module cannot change what the next one sees).
 */
const constantInputs = new WeakMap<Task, { value: unknown } | { error: string }>();

/** The instance's input, rendered and checked against the module's schema; throws when it cannot be. */
function inputOf(inst: Instance, task: Task, vars: Record<string, unknown>, secrets: Readonly<Record<string, string>>, hosts?: Readonly<Record<string, Host>>): unknown {
  const constant = isConstant(task.input);
  if (constant) {
    const known = constantInputs.get(task);
    if (known) {
      if ("error" in known) throw new InvalidInput(known.error);
      return known.value;
    }
  }
  const scope: TemplateScope = { host: inst.host, hostVars: hosts?.[inst.host]?.vars, item: inst.item, vars, task: task.name, secrets };
  let input = task.input(scope);
  if (task.module.input) {
    const parsed = v.safeParse(task.module.input, input);
    if (!parsed.success) {
      const error = `invalid input for module ${task.module.name}: ${parsed.issues.map(issueText).join("; ")}`;
      if (constant) constantInputs.set(task, { error });
      throw new InvalidInput(error);
    }
    input = parsed.output;
    if (constant) constantInputs.set(task, { value: deepFreeze(input) });
  }
  return input;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
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

/**
 * What a module is given besides its input. `exec` is an own property (a
 * module may take it out of ctx and call it alone); `log` is made the first
 * time a module asks for it.
 */
class Context implements TaskContext {
  readonly id: string;
  readonly task: string;
  readonly host: string;
  readonly item: unknown;
  readonly vars: Record<string, unknown>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly planDir: string;
  readonly keepOutput: boolean;
  readonly exec: TaskContext["exec"];
  private logger?: Logger;

  constructor(
    inst: Instance,
    readonly attempt: number,
    readonly signal: AbortSignal,
    killGraceMs: number,
    private readonly env: AttemptEnv,
    readonly ssh?: SshTarget,
  ) {
    this.id = inst.id;
    this.task = inst.task.name;
    this.host = inst.host;
    this.item = inst.item;
    this.vars = env.vars;
    this.secrets = env.secrets;
    this.planDir = env.planDir;
    this.keepOutput = env.keepOutput;
    const jobserverStyle = inst.task.jobserver ?? "pipe";
    this.exec = (argv, options = {}) => {
      const { shell, signal: own, ...rest } = options;
      const command = shell ? ["/bin/sh", "-c", argv.join(" ")] : argv;
      // On an ssh host the command runs there; a cwd is a directory there, and none means the login's home.
      if (ssh) return execRemote(ssh, command, { killGraceMs, ...rest, signal: own ?? signal }, env.observeOutput?.(this.id));
      // The module's own env wins over the jobserver's MAKEFLAGS: a plan that sets MAKEFLAGS means it.
      const js = env.jobserver?.(jobserverStyle);
      if (js?.env) rest.env = { ...js.env, ...rest.env };
      return exec(command, { cwd: env.planDir, killGraceMs, ...rest, signal: own ?? signal }, env.observeOutput?.(this.id), js?.fds);
    };
  }

  get log(): Logger {
    if (this.logger) return this.logger;
    const { env, id } = this;
    const log = (level: LogEvent["level"]) => (message: string) => env.log(level, id, String(message));
    return (this.logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") });
  }
}
