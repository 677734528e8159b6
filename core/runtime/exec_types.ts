/**
 * The options and result of running a process: part of the plugin SDK
 * (ctx.exec), so kept apart from the code that spawns, with no imports.
 */

export interface ExecOptions {
  cwd?: string;
  /** Added to (and overriding) process.env as it is when the command starts. */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Milliseconds between SIGTERM and SIGKILL on abort. Default: the task's kill_grace (5000). */
  killGraceMs?: number;
  /** Bytes of stdout and of stderr kept; the rest is counted and dropped. Default 4 MiB. */
  maxOutputBytes?: number;
  /** Text written to the child's stdin; default: stdin is /dev/null. */
  input?: string;
  /**
   * "capture" (default) keeps stdout and stderr in the result; "discard"
   * sends both to /dev/null, which saves two pipes per process when only the
   * exit status matters (thousands of short commands).
   */
  output?: "capture" | "discard";
}

export interface ExecResult {
  /** Exit code, or null when the process was ended by a signal. */
  code: number | null;
  /** The signal that ended the process, if any ("SIGTERM"). */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when output beyond maxOutputBytes was dropped. */
  truncated: boolean;
  pid: number;
  /**
   * True when the command exited but left processes running in its group;
   * they were ended (SIGTERM, then SIGKILL after the grace) before exec
   * returned, since a task's locks are held until its last process is gone.
   */
  lingered: boolean;
}
