/**
 * One child through Bun.spawn, in its own process group, with its output
 * collected. Bun only; spawn.ts chooses between this and node:child_process.
 */
import { drain, OutputBuffer } from "./output_buffer.ts";

/** What a spawn needs. */
export interface SpawnRequest {
  argv: string[];
  cwd?: string;
  /** The child's whole environment; undefined inherits the parent's. */
  env?: Record<string, string | undefined>;
  input?: string;
  output: "capture" | "discard";
  maxOutputBytes: number;
}

export interface SpawnReply {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/**
 * Starts the child (throws if it cannot be started). `exited` settles when the
 * child itself has exited; `done` when, besides, its output has been read to
 * the end (which waits for anything else holding its pipes).
 */
export function spawnWithBun(req: SpawnRequest): { pid: number; exited: Promise<unknown>; done: Promise<SpawnReply> } {
  const discard = req.output === "discard";
  const proc = Bun.spawn({
    cmd: req.argv,
    cwd: req.cwd,
    env: req.env,
    stdin: req.input !== undefined ? new TextEncoder().encode(req.input) : "ignore",
    stdout: discard ? "ignore" : "pipe",
    stderr: discard ? "ignore" : "pipe",
    detached: true,
  });
  const out = new OutputBuffer(req.maxOutputBytes);
  const err = new OutputBuffer(req.maxOutputBytes);
  const reading = discard
    ? proc.exited
    : Promise.all([drain(proc.stdout as ReadableStream<Uint8Array>, out), drain(proc.stderr as ReadableStream<Uint8Array>, err), proc.exited]);
  const done = reading.then(() => ({
    code: proc.signalCode ? null : proc.exitCode,
    signal: proc.signalCode ? String(proc.signalCode) : null,
    stdout: out.text(),
    stderr: err.text(),
    truncated: out.truncated || err.truncated,
  }));
  return { pid: proc.pid, exited: proc.exited, done };
}
