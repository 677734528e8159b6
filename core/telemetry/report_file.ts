/**
 * Report files (`--junit`, `--summary`): a reader such as a CI system must
 * never see one half-written, so each is written to a temporary file beside
 * it and renamed into place. The path is tried before the run starts, so a
 * report that could not be written is a usage error before anything runs,
 * not a surprise at the end.
 */
import { closeSync, openSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { UsageError } from "../errors.ts";

/** The temporary name beside `path`: same folder (so rename is atomic), unique to this process. */
function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
}

/** Throws a UsageError naming `flag` unless a file can be created at `path`. */
export function checkReportPath(flag: string, path: string): void {
  if (path === "") throw new UsageError(`${flag}: expected a file path, got ""`);
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // not there yet: the usual case
  }
  if (isDirectory) throw new UsageError(`${flag}: cannot write ${path}: it is a directory`);
  const temp = tempPath(path);
  try {
    closeSync(openSync(temp, "w"));
    unlinkSync(temp);
  } catch (e) {
    throw new UsageError(`${flag}: cannot write ${path}: ${why(e, path)}`);
  }
}

/** The reason, without the temporary file's name that the system's message would show. */
function why(error: unknown, path: string): string {
  const code = (error as { code?: string }).code;
  if (code === "ENOENT" || code === "ENOTDIR") return `no folder ${dirname(path)}`;
  if (code === "EACCES" || code === "EPERM") return `permission denied in ${dirname(path)}`;
  if (code === "EROFS") return `${dirname(path)} is on a read-only file system`;
  return (error as Error).message;
}

/** Masks the plan's secrets in what a report keeps; identity until a plan with secrets is loaded. */
let redactValue: <T>(value: T) => T = (value) => value;

/** Set with the plan's secrets (core/secrets/output.ts), like fanout's stdout and stderr. */
export function redactReports(redact: <T>(value: T) => T): void {
  redactValue = redact;
}

/** `value` as a report may keep it: a copy with every secret masked. */
export function forReport<T>(value: T): T {
  return redactValue(value);
}

/** Writes `text` to `path` all at once: a temporary file, then rename. */
export function writeAtomically(path: string, text: string): void {
  const temp = tempPath(path);
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // nothing was left behind
    }
    throw e;
  }
}
