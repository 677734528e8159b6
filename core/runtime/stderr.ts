/**
 * fanout's stderr: human progress, warnings and error messages. When stderr
 * goes away (its reader closed the pipe, the terminal hung up, the disk is
 * full) human output stops and nothing else does: the run goes on, its
 * events still reach stdout, and the exit code still tells how it went.
 */
import process from "node:process";
import { FdStream } from "./fd_stream.ts";
import { GuardedOutput } from "./guarded_output.ts";

let stream: FdStream | undefined;
const fdStream = () => (stream ??= new FdStream(2, () => process.stderr));
const stderr = new GuardedOutput(fdStream, false);

/** Catches stderr's error events from now on, so none can crash the program. */
export function guardStderr(): void {
  stderr.guard();
}

/** As guardRuntimeStdout, for process.stderr. */
export function guardRuntimeStderr(): void {
  fdStream().handOver();
  stderr.guardAlso(process.stderr);
}

/** Writes to stderr; drops the text once stderr has stopped. */
export function writeStderr(text: string): void {
  stderr.write(text);
}

/** Resolves once everything written so far has reached the OS (or stderr has stopped). */
export function stderrDrained(): Promise<void> {
  return stderr.drained();
}

/** Every text written to stderr from now on, fanout's and a plugin's, goes through `redact` (core/secrets/output.ts). */
export function redactStderr(redact: (text: string) => string): void {
  stderr.redact = redact;
}
