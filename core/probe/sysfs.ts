/**
 * Reading /sys and /proc through a root prefix, so every probe can be pointed
 * at a fake tree (fixtures/sysfs/*) in tests. Readers never throw: a missing
 * or unreadable file is `undefined`, and the caller says what that means.
 */
import fs from "node:fs";
import path from "node:path";

/** Where /sys and /proc live; both default to "/" (the real machine). */
export interface ProbeRoots {
  /** Prefix for /sys paths, including cgroup mount points found in mountinfo. */
  sysRoot?: string;
  /** Prefix for /proc paths. */
  procRoot?: string;
}

/** `under("/fake", "/sys/block")` → "/fake/sys/block"; with root "/" the path is unchanged. */
export function under(root: string | undefined, absolute: string): string {
  return path.join(root ?? "/", absolute);
}

/** Trimmed file contents, or undefined if it is missing or unreadable. */
export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** A file holding one integer; undefined if missing, unreadable or not a number. */
export function readInt(file: string): number | undefined {
  const text = readText(file);
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}

/** Entry names of a directory, sorted (Bun and Deno order readdir differently). */
export function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** The canonical path (symlinks followed), or undefined if it does not exist. */
export function realPath(file: string): string | undefined {
  try {
    return fs.realpathSync(file);
  } catch {
    return undefined;
  }
}

export function exists(file: string): boolean {
  try {
    fs.statSync(file);
    return true;
  } catch {
    return false;
  }
}
