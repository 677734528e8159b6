/**
 * Writing a command's output to stdout when stdout may be a pipe that closes
 * early (`fanout run plan.yml --dry-run | head`). A closed pipe ends the
 * output quietly; it is not an error of the command. Bun reports it as an
 * 'error' event, Deno by throwing from write(): both are handled here.
 */
import process from "node:process";

let closed = false;
let listening = false;

function isClosedPipe(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED" || /EPIPE|broken pipe/i.test(String(error));
}

/** Stops a closed stdout from crashing the program; other errors still surface. */
export function guardStdout(): void {
  if (listening) return;
  listening = true;
  process.stdout.on("error", (error) => {
    if (isClosedPipe(error)) closed = true;
    else throw error;
  });
}

/**
 * Writes to stdout, silently dropping output once the reader has gone.
 * `done` is called when the text has been handed to the OS (or dropped), so a
 * caller can wait for its output to drain before the program exits.
 */
export function writeStdout(text: string, done?: () => void): void {
  if (closed) return done?.();
  guardStdout();
  try {
    process.stdout.write(text, () => done?.());
  } catch (error) {
    if (!isClosedPipe(error)) throw error;
    closed = true;
    done?.();
  }
}
