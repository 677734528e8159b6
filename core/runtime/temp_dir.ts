/**
 * The directory for temporary files, as os.tmpdir() gives it on Unix
 * (TMPDIR, TMP or TEMP, else /tmp; no trailing slash), without loading
 * node:os: a run that serves the make jobserver needs it at its first
 * command, and loading node:os costs a compiled fanout about 0.8 ms.
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

export function systemTempDir(env: Record<string, string | undefined> = process.env): string {
  const dir = env.TMPDIR || env.TMP || env.TEMP || "/tmp";
  return dir.length > 1 && dir.endsWith("/") ? dir.slice(0, -1) : dir;
}

/** A new private (0700) directory in `base` (by default systemTempDir()), named `prefix` and six random characters. */
export function makeTempDir(prefix: string, base = systemTempDir()): string {
  return mkdtempSync(join(base, prefix));
}
