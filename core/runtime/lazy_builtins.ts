/**
 * Node built-ins that only some runs need, loaded on first use rather than
 * at start-up. Under Bun each costs a compiled fanout's start-up about a
 * millisecond or more to load (node:child_process about 4 ms, measured in
 * a compiled binary), and a run that spawns through Bun.spawn, starts every
 * program it is given and loads no plugin of the user's never needs them.
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

/** node:url: file URLs in a plugin's load errors, and a source checkout's commit. */
export const nodeUrl = () => builtin<typeof import("node:url")>("node:url");
