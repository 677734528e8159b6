/**
 * Node built-ins that only some runs need, loaded on first use rather than
 * at start-up. Under Bun each costs a compiled fanout's start-up about a
 * millisecond to load (node:child_process about 4 ms, node:url 1.5, node:os
 * 0.8, measured in a compiled binary), and a run that spawns through
 * Bun.spawn, starts every program it is given and loads no plugin of the
 * user's never needs them.
 */
import process from "node:process";

const loaded = new Map<string, unknown>();

function builtin<T>(name: string): T {
  let m = loaded.get(name);
  if (m === undefined) loaded.set(name, (m = process.getBuiltinModule(name)));
  return m as T;
}

/** node:child_process: spawning off Bun. */
export const nodeChildProcess = () => builtin<typeof import("node:child_process")>("node:child_process");

/** node:fs/promises: only to say why a program could not start. */
export const nodeFsPromises = () => builtin<typeof import("node:fs/promises")>("node:fs/promises");

/** node:url: a user plugin's file URL for import(), file URLs in load errors, and a source checkout's commit. */
export const nodeUrl = () => builtin<typeof import("node:url")>("node:url");

/** node:os: free memory where /proc/meminfo cannot be read; the home folder when HOME is unset. */
export const nodeOs = () => builtin<typeof import("node:os")>("node:os");
