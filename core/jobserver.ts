/**
 * The GNU make jobserver of a run (docs/jobserver.md): which one the run's
 * fork slots come from, and what each command is given.
 *
 * - Started under a jobserver (MAKEFLAGS names one that can be opened):
 *   fanout is its client, holding its own implicit slot, and passes the same
 *   jobserver on to its commands, as a recursive make does.
 * - Otherwise, when any task has the jobserver on (the default): fanout
 *   serves one, a pipe holding a token per free fork slot.
 * - A MAKEFLAGS jobserver that cannot be used is warned about; the run then
 *   goes on as if there were none.
 */
import process from "node:process";
import { JobserverGuard } from "./guards/jobserver_guard.ts";
import type { Task } from "./plan/plan.ts";
import { InheritedPipe, ServedPipe } from "./runtime/jobserver_pipe.ts";
import { authText, childMakeflags, hasJobserverWords, parseMakeflags } from "./runtime/makeflags.ts";
import type { JobserverInfo } from "./telemetry/events.ts";

/** A task's `jobserver:` setting: the form its commands are given, or false for none. */
export type JobserverStyle = "pipe" | "fifo" | false;

/** What one command is given: MAKEFLAGS (undefined: leave it as inherited) and descriptors to pass as fds 3, 4. */
export interface CommandJobserver {
  env?: Record<string, string>;
  fds?: number[];
}

export interface RunJobserver {
  /** The fork budget shared with the commands; undefined when there is no jobserver at all. */
  guard?: JobserverGuard;
  info: JobserverInfo;
  /** Why a jobserver named in MAKEFLAGS is not used. */
  warning?: string;
  /** What a command of a task with this setting is given. */
  forCommand(style: JobserverStyle): CommandJobserver;
  /** At the end of the run: tokens still held go back, the fifo is removed. */
  close(): void;
}

/** `idle`: whether no instance of the run is running (GuardSet.idle). */
export function runJobserver(tasks: readonly Task[], forks: number, idle: () => boolean, makeflags = process.env.MAKEFLAGS): RunJobserver {
  const parent = parseMakeflags(makeflags);
  const serve = tasks.some((t) => t.jobserver !== false);
  let warning: string | undefined;
  let pipe: ServedPipe | InheritedPipe | undefined;
  let guard: JobserverGuard | undefined;
  let slots: number | null = null;
  if (parent.invalid) warning = `MAKEFLAGS: ${parent.invalid}; running without the parent's jobserver`;
  if (parent.auth) {
    try {
      pipe = new InheritedPipe(parent.auth);
      slots = parent.jobs ?? null;
      guard = new JobserverGuard(parent.jobs ?? forks, pipe, true);
    } catch (error) {
      warning = `MAKEFLAGS names the jobserver --jobserver-auth=${authText(parent.auth)}, but ${(error as Error).message}; running without it`;
    }
  }
  if (!pipe && serve) {
    const served = new ServedPipe(forks, tasks.some((t) => t.jobserver === "fifo"));
    pipe = served;
    slots = forks;
    guard = new JobserverGuard(forks, pipe, false, idle);
  }
  const jobs = guard?.capacity ?? forks;
  // Without a jobserver for it, a command still must not be told of the parent's (its descriptors are not passed).
  const off: CommandJobserver = hasJobserverWords(makeflags) ? { env: { MAKEFLAGS: childMakeflags(makeflags, undefined, 0) } } : {};
  const given = new Map<JobserverStyle, CommandJobserver>();
  return {
    guard,
    info: { served: pipe !== undefined && serve, used: pipe instanceof InheritedPipe, slots },
    warning,
    forCommand(style) {
      if (style === false || !pipe) return off;
      let c = given.get(style);
      if (!c) {
        const child = pipe.child(style);
        given.set(style, (c = { env: { MAKEFLAGS: childMakeflags(makeflags, child.auth, jobs) }, fds: child.fds }));
      }
      return c;
    },
    close() {
      guard?.releaseAll();
      pipe?.close();
    },
  };
}
