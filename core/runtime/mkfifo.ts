/**
 * mkfifo(3), which neither node:fs nor Bun nor Deno offers. Under Bun it is
 * called in libc through bun:ffi (about 2 ms the first time, the library
 * open included); a `mkfifo` process costs 8–10 ms of a run's start-up on
 * this machine kind, more than the rest of a one-task run's set-up. Where
 * libc cannot be opened (a musl system names it differently) and under
 * Deno, the coreutils program makes it.
 */
import { nodeChildProcess } from "./lazy_builtins.ts";
import { isBun } from "./runtime.ts";

type MkfifoCall = (path: string, mode: number) => string | undefined;

let viaLibc: MkfifoCall | null | undefined;

/** Makes a fifo at `path` with `mode`; returns why it could not, or undefined. */
export function makeFifo(path: string, mode = 0o600): string | undefined {
  if (isBun) {
    viaLibc ??= libcMkfifo();
    if (viaLibc) return viaLibc(path, mode);
  }
  return mkfifoProgram(path, mode);
}

/** mkfifo from libc through bun:ffi, or null when libc cannot be opened. */
function libcMkfifo(): MkfifoCall | null {
  let ffi: typeof import("bun:ffi");
  let symbols: { mkfifo: (path: Uint8Array, mode: number) => number };
  try {
    // A synchronous import of a built-in: this runs only under Bun.
    ffi = require("bun:ffi");
    const { FFIType } = ffi;
    symbols = ffi.dlopen("libc.so.6", { mkfifo: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 } }).symbols as typeof symbols;
  } catch {
    return null;
  }
  return (path, mode) => {
    const text = new TextEncoder().encode(`${path}\0`);
    if (symbols.mkfifo(text, mode) === 0) return undefined;
    // errno is not reachable through bun:ffi: ask the program, whose message names the cause.
    return mkfifoProgram(path, mode);
  };
}

function mkfifoProgram(path: string, mode: number): string | undefined {
  const argv = ["mkfifo", "-m", mode.toString(8), path];
  if (isBun) {
    try {
      const made = Bun.spawnSync(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      return made.exitCode === 0 ? undefined : made.stderr.toString().trim() || `mkfifo exited with code ${made.exitCode}`;
    } catch (error) {
      return (error as Error).message;
    }
  }
  const made = nodeChildProcess().spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  return made.status === 0 ? undefined : made.error?.message ?? made.stderr.trim();
}
