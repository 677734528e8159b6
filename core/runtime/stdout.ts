/**
 * fanout's stdout: command output and NDJSON events. A reader that closes
 * the pipe early (`fanout run plan.yml --dry-run | head`) ends the output
 * quietly; it is not an error of the command. Any other write error (a full
 * disk, EIO) is one: it reaches the handler set with onStdoutFailure, and
 * cli.ts stops the run and exits non-zero.
 */
import process from "node:process";
import { FdStream } from "./fd_stream.ts";
import { GuardedOutput } from "./guarded_output.ts";

let stream: FdStream | undefined;
const fdStream = () => (stream ??= new FdStream(1, () => process.stdout));
const stdout = new GuardedOutput(fdStream, true);

/** Catches stdout's error events from now on, so none can crash the program. */
export function guardStdout(): void {
  stdout.guard();
}

/**
 * A plugin may write to process.stdout itself (fanout does not: see
 * fd_stream.ts). From the moment code that may do so is loaded, fanout
 * writes through that stream too, so both outputs keep their order; its
 * errors are caught, and what it holds is written before fanout exits.
 */
export function guardRuntimeStdout(): void {
  fdStream().handOver();
  stdout.guardAlso(process.stdout);
}

/**
 * Writes to stdout; drops the text once stdout has stopped. `done` is called
 * when the text has been handed to the OS (or dropped).
 */
export function writeStdout(text: string, done?: () => void): void {
  stdout.write(text, done);
}

/** `handler` is called once, with the first write error that is not a closed pipe. */
export function onStdoutFailure(handler: (error: Error) => void): void {
  stdout.onFailure = handler;
}

/** The write error that stopped stdout, unless it was a closed pipe. */
export function stdoutFailure(): Error | undefined {
  return stdout.failure;
}

/** Resolves once everything written so far has reached the OS (or stdout has stopped). */
export function stdoutDrained(): Promise<void> {
  return stdout.drained();
}

/** Every text written to stdout from now on, fanout's and a plugin's, goes through `redact` (core/secrets/output.ts). */
export function redactStdout(redact: (text: string) => string): void {
  stdout.redact = redact;
}
