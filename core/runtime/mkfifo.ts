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
let preloading: Promise<boolean> | undefined;

/**
 * Starts loading bun:ffi in the background, for a fifo that will be made
 * soon (the jobserver's, at the first command): import() loads it in
 * 0.5–0.9 ms, where the synchronous require() that makeFifo falls back to
 * took 1–3.5 ms (the first require of a compiled program sets up CommonJS).
 * Resolves to whether libc's mkfifo is now at hand.
 */
export function preloadFifoMaker(): Promise<boolean> {
  if (!isBun || viaLibc !== undefined) return Promise.resolve(Boolean(viaLibc));
  preloading ??= import("bun:ffi").then((ffi) => Boolean(viaLibc ??= libcMkfifo(ffi)), () => false);
  return preloading;
}

/** Makes a fifo at `path` with `mode`; returns why it could not, or undefined. */
export function makeFifo(path: string, mode = 0o600): string | undefined {
  if (isBun) {
    viaLibc ??= libcMkfifo();
    if (viaLibc) return viaLibc(path, mode);
  }
  return mkfifoProgram(path, mode);
}

/** mkfifo from libc through bun:ffi (loaded now unless given), or null when libc cannot be opened. */
function libcMkfifo(loaded?: typeof import("bun:ffi")): MkfifoCall | null {
  let symbols: { mkfifo: (path: Uint8Array, mode: number) => number };
  try {
    // A synchronous import of a built-in: this runs only under Bun.
    const ffi: typeof import("bun:ffi") = loaded ?? require("bun:ffi");
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
