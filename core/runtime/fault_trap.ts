/**
 * Exceptions nobody can catch: a module's timer callback that throws, a
 * promise it rejects and never awaits. By default they end the process —
 * taking the run, its NDJSON stream and its running commands down with it.
 * Here they become reports: while a run is on, its handler decides (fail the
 * instances of the module at fault, or log a warning); outside a run they are
 * a warning on stderr. The process carries on either way.
 */
import process from "node:process";
import { describeError } from "../errors.ts";
import { writeStderr } from "./stderr.ts";

export type FaultKind = "uncaught exception" | "unhandled rejection";
export type FaultHandler = (error: unknown, kind: FaultKind) => void;

let handler: FaultHandler | undefined;
let installed = false;

function report(error: unknown, kind: FaultKind): void {
  if (handler) return handler(error, kind);
  writeStderr(`fanout: warning: ${kind} outside any run: ${describeError(error)}\n`);
}

/** Installs the process-wide handlers, once. */
export function installFaultTrap(): void {
  if (installed) return;
  installed = true;
  process.on("uncaughtException", (error) => report(error, "uncaught exception"));
  process.on("unhandledRejection", (reason) => report(reason, "unhandled rejection"));
}

/** Routes faults to `h` until the returned function is called. */
export function onFault(h: FaultHandler): () => void {
  installFaultTrap();
  handler = h;
  return () => {
    if (handler === h) handler = undefined;
  };
}

/** The stack of a thrown value, or "" when it has none that can be read. */
export function stackOf(error: unknown): string {
  try {
    return error instanceof Error && typeof error.stack === "string" ? error.stack : "";
  } catch {
    return "";
  }
}

/**
 * Which of `sources` (plugin files) a fault came from, read off its stack:
 * the file itself, or the bundle the compiled binary made of it
 * ("<n>-<name>.mjs"). Undefined when the stack names none of them.
 */
export function faultSource(error: unknown, sources: Iterable<string>): string | undefined {
  const stack = stackOf(error);
  if (stack === "") return undefined;
  for (const source of sources) {
    const name = source.slice(source.lastIndexOf("/") + 1).replace(/\.[^.]*$/, "");
    if (stack.includes(source) || stack.includes(`-${name}.mjs`)) return source;
  }
  return undefined;
}
