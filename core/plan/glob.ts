/**
 * A small glob for `items_from: { glob }`: `*`, `?`, `[abc]`, `{a,b}` and `**`
 * (any number of directories). Results are files only, sorted, so Bun and
 * Deno (whose readdir orders differ) give the same items in the same order.
 */
import { readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";

export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        const slash = pattern[i + 2] === "/";
        re += slash ? "(?:[^/]*/)*" : ".*";
        i += slash ? 2 : 1;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        const body = pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\");
        re += `[${body}]`;
        i = end;
      }
    } else if (c === "{") {
      const end = pattern.indexOf("}", i + 1);
      if (end < 0) re += "\\{";
      else {
        re += `(?:${pattern.slice(i + 1, end).split(",").map(escape).join("|")})`;
        i = end;
      }
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}

function escape(s: string): string {
  return s.replace(/[.+^$()|\\\]]/g, "\\$&");
}

/** The directory a pattern's matches all live under (its fixed prefix), absolute. */
export function globBase(pattern: string, baseDir: string): string {
  return pattern.startsWith("/") ? resolve("/", staticPrefix(pattern.slice(1))) : resolve(baseDir, staticPrefix(pattern));
}

/** The fixed directory prefix of a pattern: where the walk can start. */
function staticPrefix(pattern: string): string {
  const parts = pattern.split("/");
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (/[*?[{]/.test(part)) break;
    fixed.push(part);
  }
  return fixed.join("/");
}

/** Files under `baseDir` matching `pattern` (relative to baseDir), as absolute paths, sorted. */
export function globFiles(pattern: string, baseDir: string): string[] {
  const absolutePattern = pattern.startsWith("/");
  const root = absolutePattern ? "/" : baseDir;
  const rel = absolutePattern ? pattern.slice(1) : pattern;
  const matcher = globToRegExp(rel);
  const start = resolve(root, staticPrefix(rel));
  const recursive = rel.includes("**") || rel.split("/").length - staticPrefix(rel).split("/").filter(Boolean).length > 1;
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // a missing or unreadable directory matches nothing
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      const relPath = relative(root, full);
      if (e.isDirectory()) {
        if (recursive) walk(full);
      } else if (e.isFile() && matcher.test(relPath)) {
        out.push(full);
      }
    }
  };
  walk(start);
  return out.sort();
}
