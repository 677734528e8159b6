/**
 * What a module is: the contract between fanout and every built-in or user
 * module. core/mod.ts re-exports the public part of it for plugin authors.
 */
import * as v from "./deps_valibot.ts";
import type { Hint, Resources } from "./hints.ts";
import { HintSchema, ResourcesSchema } from "./hints.ts";
import type { ExecOptions, ExecResult } from "./runtime/exec_types.ts";
import type { SshTarget } from "./ssh/target.ts";

/** The plain form a module or a plan may write a hint in. */
export type HintInput =
  | "fully_parallel"
  | "host_exclusive"
  | "global_exclusive"
  | { kind: "fully_parallel" }
  | { kind: "host_exclusive"; key?: string; limit?: number }
  | { kind: "rate_limited"; per_second: number; burst?: number; key?: string }
  | { kind: "global_exclusive"; group?: string };

/** Resource needs as a module writes them (`mem` may be "512MiB"). */
export interface ResourcesInput {
  cpu?: number;
  io?: number;
  mem?: number | string;
  io_pattern?: "sequential" | "random";
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface TaskExecOptions extends Omit<ExecOptions, "signal"> {
  /** Run `argv[0]` through `/bin/sh -c` (only when the plan asked for a shell). */
  shell?: boolean;
  /** Defaults to the instance's own signal. */
  signal?: AbortSignal;
}

/** Everything a module is given besides its input. */
export interface TaskContext {
  /** "install[web1][a]" */
  readonly id: string;
  readonly task: string;
  readonly host: string;
  /** The item of this instance, or null when the task has no items. */
  readonly item: unknown;
  readonly vars: Readonly<Record<string, unknown>>;
  /**
   * The plan's `secrets:`, name → value. fanout masks these values as ***
   * in everything it prints (events, logs, errors, result data); what a
   * module writes elsewhere itself (a file, console.log) is not masked.
   */
  readonly secrets: Readonly<Record<string, string>>;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** The directory of the plan file: resolve relative paths against it. */
  readonly planDir: string;
  /** Aborted on timeout, fail-fast or Ctrl-C: stop promptly when it fires. */
  readonly signal: AbortSignal;
  /**
   * False when nothing will read this instance's `data` or `error` (a run
   * with `--quiet` and without `--json`): a module may then skip collecting
   * output it would only report, as the shell module sends a command's
   * output to /dev/null instead of through pipes. Otherwise true (fanout
   * always sets it; optional so that contexts built by hand in a plugin's
   * tests need not).
   */
  readonly keepOutput?: boolean;
  readonly log: Logger;
  /**
   * Set when the instance's host is an ssh host (undefined for a local one):
   * how ssh, scp or sftp reach it, with the run's ControlMaster socket
   * (`controlPath`), already connected. `exec` runs commands there itself.
   */
  readonly ssh?: SshTarget;
  /**
   * Runs a process from an argv array (no shell unless `shell: true`) in its
   * own process group; the whole group is killed when `signal` aborts.
   * On an ssh host it runs on that host (`cwd` is then a directory there;
   * without one, the login's home), in a session of its own there, which
   * is what an abort ends.
   */
  exec(argv: readonly string[], options?: TaskExecOptions): Promise<ExecResult>;
}

/** What `run` may return. Returning nothing means `{ changed: false }`. */
export interface TaskResult {
  changed?: boolean;
  /** Marks the instance failed without throwing. */
  failed?: boolean;
  /** Why it failed (with `failed: true`). */
  error?: string;
  /** Bytes processed, summed into the run's bytes/s. */
  bytes?: number;
  /** Anything JSON-serialisable; becomes task_end.data. */
  data?: Record<string, unknown>;
}

export type RunFunction<I = Record<string, unknown>> = (input: I, ctx: TaskContext) => Promise<TaskResult | void> | TaskResult | void;

export interface ModuleDefinition<I = Record<string, unknown>> {
  parallelizationHint?: HintInput;
  resources?: ResourcesInput;
  /** A valibot schema for `with:`; checked at plan load and again per instance after templating. */
  input?: v.GenericSchema<unknown, I>;
  /** One line for `--help`-style listings. */
  description?: string;
  /**
   * The inputs (keys of `with:`) that are shell code, like the shell
   * module's `cmd`: every template value substituted into them is quoted
   * for POSIX sh, unless written `{{ x | raw }}`.
   */
  shellCode?: readonly string[];
  run: RunFunction<I>;
}

/** A module after its exports were validated. */
export interface LoadedModule {
  name: string;
  /** "builtin:shell" or the plugin's absolute path. */
  source: string;
  hint: Hint;
  resources: Resources;
  input?: v.GenericSchema;
  /** The module's `description` export, shown by `fanout check`. */
  description?: string;
  /** Inputs whose template values are quoted for the shell. */
  shellCode: readonly string[];
  run: RunFunction<unknown>;
}

/** Shape check for a plugin file's exports (named or default). */
export const ModuleExportsSchema = v.object({
  parallelizationHint: v.optional(HintSchema),
  resources: v.optional(ResourcesSchema),
  input: v.optional(v.custom<v.GenericSchema>((s) => typeof s === "object" && s !== null && "~standard" in s, "expected input to be a valibot schema")),
  description: v.optional(v.string("expected description as a string")),
  shellCode: v.optional(v.array(v.string("expected each of shellCode to be an input name"), "expected shellCode as a list of input names")),
  run: v.function("expected a run function: `export default async function run(input, ctx) {…}`"),
});
