/**
 * node:child_process, loaded on first use rather than at start-up: under Bun
 * fanout spawns through Bun.spawn, and loading the module alone costs about
 * 4 ms of every run's start-up (measured in a compiled binary). Deno and
 * Node load it when they first spawn.
 */
import process from "node:process";

type ChildProcessModule = typeof import("node:child_process");

let childProcess: ChildProcessModule | undefined;

export function nodeChildProcess(): ChildProcessModule {
  return (childProcess ??= process.getBuiltinModule("node:child_process") as ChildProcessModule);
}
