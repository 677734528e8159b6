/**
 * The terminal on stderr: its size, and word when it changes. Read through
 * node:tty on the descriptor, without setting up process.stderr (see
 * fd_stream.ts). A tty.WriteStream's columns are not updated on resize
 * under Bun (nor its getWindowSize()), so every question makes a fresh one:
 * about 0.3 ms, asked once at the start and once per resize.
 */
import process from "node:process";
import { isatty, WriteStream } from "node:tty";

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** The size of the terminal on `fd`; undefined when `fd` is not a terminal. */
export function terminalSize(fd = 2): TerminalSize | undefined {
  if (!isatty(fd)) return undefined;
  try {
    const stream = new WriteStream(fd);
    const { columns, rows } = stream;
    return columns > 0 && rows > 0 ? { columns, rows } : undefined;
  } catch {
    return undefined;
  }
}

/** Calls `listener` when the terminal is resized (SIGWINCH); returns the unsubscribe. Never keeps the process alive. */
export function onTerminalResize(listener: () => void): () => void {
  try {
    process.on("SIGWINCH", listener);
  } catch {
    // No SIGWINCH here (Windows): the size stays as it was at the start.
    return () => {};
  }
  return () => process.off("SIGWINCH", listener);
}

/** A repeating timer that does not keep the process alive; returns its stop. */
export function backgroundInterval(fn: () => void, ms: number): () => void {
  const handle = setInterval(fn, ms);
  if (typeof handle === "number") (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(handle);
  else (handle as { unref?: () => void }).unref?.();
  return () => clearInterval(handle);
}
