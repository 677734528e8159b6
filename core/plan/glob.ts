/**
 * The glob of `items_from: { glob }`. Forms: `*` and `?` (within one name),
 * `[abc]`, `[a-z]`, `[!a-z]`, `{a,b}` alternatives (nested, with wildcards
 * inside), `**` as a whole segment (any number of directories), `\x` for a
 * literal x. Results are regular files only (a symlink to a file counts),
 * absolute, sorted by code unit, so Bun and Deno (whose readdir orders
 * differ) give the same items in the same order.
 *
 * Rules a user can see, each in docs/plan.md and glob.test.ts:
 * - a wildcard never matches a name's leading "." (write `.*` to get dotfiles),
 *   and `**` never enters a directory whose name starts with ".";
 * - `**` never follows a symlink to a directory (a link loop cannot make the
 *   walk endless); a segment that names or matches one does follow it;
 * - a missing directory matches nothing; one that exists but cannot be read,
 *   or a fixed path component that is not a directory, is a GlobError.
 */
import { type Dirent, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

/** A malformed pattern or a directory that cannot be read; load.ts positions it. */
export class GlobError extends Error {
  override name = "GlobError";
}

/** Brace expansion stops here: `{a,b}{c,d}…` multiplies. */
const MAX_ALTERNATIVES = 1024;

const GLOBSTAR = Symbol("**");
type Segment = string | typeof GLOBSTAR | { re: RegExp; text: string };

/** Files matching `pattern` (relative to `baseDir` unless absolute), as absolute paths, sorted. */
export function globFiles(pattern: string, baseDir: string): string[] {
  const compiled = compileGlob(pattern);
  const listings = new Map<string, Dirent[]>();
  const out = new Set<string>();
  for (const { absolute, segments } of compiled) {
    walk(absolute ? "/" : resolve(baseDir), segments, 0, out, listings);
  }
  return [...out].sort();
}

/** Checks a pattern without touching the disk; throws GlobError. */
export function compileGlob(pattern: string): { absolute: boolean; segments: Segment[] }[] {
  if (pattern === "") throw new GlobError("empty pattern");
  return expandBraces(pattern).map((alt) => {
    const absolute = alt.startsWith("/");
    const parts = alt.split("/").filter((p, i, all) => p !== "" || i === all.length - 1);
    if (parts[parts.length - 1] === "") throw new GlobError(`"${alt}" ends with "/": a glob names files, not directories`);
    const segments = parts.map((p) => compileSegment(p, alt));
    if (segments[segments.length - 1] === GLOBSTAR) segments.push(compileSegment("*", alt));
    return { absolute, segments };
  });
}

/** The directory a pattern's matches all live under (its fixed prefix), absolute. */
export function globBase(pattern: string, baseDir: string): string {
  const parts = pattern.split("/");
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (/[*?[{\\]/.test(part)) break;
    fixed.push(part);
  }
  return pattern.startsWith("/") ? resolve("/", fixed.join("/")) : resolve(baseDir, fixed.join("/"));
}

function walk(dir: string, segments: Segment[], i: number, out: Set<string>, listings: Map<string, Dirent[]>): void {
  const seg = segments[i]!;
  const last = i === segments.length - 1;
  if (typeof seg === "string") {
    // A fixed name: looked up, not listed, so a directory that can be
    // entered but not listed still works, and dotfiles can be named.
    const path = join(dir, seg);
    const kind = kindOf(path);
    if (last) {
      if (kind === "file") out.add(path);
    } else if (kind === "dir") walk(path, segments, i + 1, out, listings);
    else if (kind !== "none") throw new GlobError(`${path} is not a directory`);
    return;
  }
  if (seg === GLOBSTAR) {
    walk(dir, segments, i + 1, out, listings); // zero directories
    for (const e of list(dir, listings)) {
      if (e.isDirectory() && !e.name.startsWith(".")) walk(join(dir, e.name), segments, i, out, listings);
    }
    return;
  }
  for (const e of list(dir, listings)) {
    if (e.name.startsWith(".") && !seg.text.startsWith(".")) continue;
    if (!seg.re.test(e.name)) continue;
    const path = join(dir, e.name);
    const kind = e.isSymbolicLink() ? kindOf(path) : e.isFile() ? "file" : e.isDirectory() ? "dir" : "other";
    if (last) {
      if (kind === "file") out.add(path);
    } else if (kind === "dir") walk(path, segments, i + 1, out, listings);
  }
}

/** What `path` is once symlinks are followed; a missing or broken one is "none". */
function kindOf(path: string): "file" | "dir" | "other" | "none" {
  try {
    const s = statSync(path);
    return s.isFile() ? "file" : s.isDirectory() ? "dir" : "other";
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ELOOP") return "none";
    throw new GlobError(`cannot read ${path} (${code ?? e})`);
  }
}

function list(dir: string, listings: Map<string, Dirent[]>): Dirent[] {
  let entries = listings.get(dir);
  if (entries) return entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Gone between listing its parent and reading it: nothing there to match.
    if (code === "ENOENT") entries = [];
    else throw new GlobError(`cannot read directory ${dir} (${code ?? e})`);
  }
  listings.set(dir, entries);
  return entries;
}

/**
 * `a{b,c{d,e}}f` → abf, acdf, acef. Braces inside `[…]` or after `\` are
 * plain characters; an unclosed `{` is an error, a lone `}` is a character.
 */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let outer = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "[") i = classEnd(pattern, i) ?? i;
    else if (c === "{" && depth++ === 0) outer = i;
    else if (c === "}" && depth > 0) depth--;
  }
  if (depth > 0) throw new GlobError(`unclosed "{" at character ${outer + 1} of "${pattern}"; expected {a,b}`);
  const out: string[] = [];
  expandInto(pattern, out, pattern);
  return out;
}

function expandInto(p: string, out: string[], whole: string): void {
  const open = findBrace(p);
  if (open < 0) {
    out.push(p);
    if (out.length > MAX_ALTERNATIVES) throw new GlobError(`"${whole}" expands to more than ${MAX_ALTERNATIVES} alternatives`);
    return;
  }
  // Balanced (checked above): the matching "}" exists.
  const bounds = [open];
  let depth = 0;
  for (let i = open; ; i++) {
    const c = p[i];
    if (c === "\\") i++;
    else if (c === "[") i = classEnd(p, i) ?? i;
    else if (c === "{") depth++;
    else if (c === "," && depth === 1) bounds.push(i);
    else if (c === "}" && --depth === 0) {
      bounds.push(i);
      break;
    }
  }
  const head = p.slice(0, open);
  const tail = p.slice(bounds[bounds.length - 1]! + 1);
  for (let k = 0; k < bounds.length - 1; k++) {
    expandInto(head + p.slice(bounds[k]! + 1, bounds[k + 1]) + tail, out, whole);
  }
}

/** Index of the first `{` that is not escaped or inside a class. */
function findBrace(p: string): number {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "\\") i++;
    else if (p[i] === "[") i = classEnd(p, i) ?? i;
    else if (p[i] === "{") return i;
  }
  return -1;
}

/** Index of the `]` closing the class that opens at `start`, or undefined. */
function classEnd(p: string, start: number): number | undefined {
  let i = start + 1;
  if (p[i] === "!" || p[i] === "^") i++;
  if (p[i] === "]") i++; // a leading "]" is a member
  for (; i < p.length; i++) {
    if (p[i] === "\\") i++;
    else if (p[i] === "]") return i;
  }
  return undefined;
}

function compileSegment(seg: string, pattern: string): Segment {
  if (seg === "**") return GLOBSTAR;
  if (seg.includes("**")) throw new GlobError(`"**" must be a whole path segment, as in data/**/*.csv; got "${pattern}"`);
  if (!/[*?[\\]/.test(seg)) return seg;
  let re = "";
  let literal = "";
  let wild = false;
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "\\") {
      const next = seg[++i];
      if (next === undefined) throw new GlobError(`"${pattern}" ends with a lone "\\"`);
      re += escapeRegExp(next);
      literal += next;
    } else if (c === "*") (re += "[^/]*", wild = true);
    else if (c === "?") (re += "[^/]", wild = true);
    else if (c === "[") {
      const end = classEnd(seg, i);
      if (end === undefined) throw new GlobError(`unclosed "[" in "${pattern}"; expected [abc], [a-z] or [!a-z] (write \\[ for a literal bracket)`);
      re += compileClass(seg.slice(i + 1, end), pattern);
      wild = true;
      i = end;
    } else (re += escapeRegExp(c), literal += c);
  }
  // Only escapes: a fixed name after all.
  if (!wild) return literal;
  return { re: new RegExp(`^${re}$`, "u"), text: seg };
}

/** `a-z0-9_` (the text between the brackets) → a RegExp class; reversed ranges are errors. */
function compileClass(body: string, pattern: string): string {
  const chars = Array.from(body); // code points, so a range may name any character
  let out = "";
  let i = 0;
  if (chars[0] === "!" || chars[0] === "^") (out = "^", i = 1);
  const tokens: { c: string; escaped: boolean }[] = [];
  for (; i < chars.length; i++) {
    if (chars[i] === "\\" && i + 1 < chars.length) tokens.push({ c: chars[++i]!, escaped: true });
    else tokens.push({ c: chars[i]!, escaped: false });
  }
  for (let t = 0; t < tokens.length; t++) {
    const from = tokens[t]!.c;
    const dash = tokens[t + 1];
    if (dash && dash.c === "-" && !dash.escaped && t + 2 < tokens.length) {
      const to = tokens[t + 2]!.c;
      if (from.codePointAt(0)! > to.codePointAt(0)!) {
        throw new GlobError(`empty range "${from}-${to}" in "${pattern}": the first character must not come after the second`);
      }
      out += `${escapeClassChar(from)}-${escapeClassChar(to)}`;
      t += 2;
    } else out += escapeClassChar(from);
  }
  return `[${out}]`;
}

function escapeClassChar(c: string): string {
  return /[\\\]\[^-]/.test(c) ? `\\${c}` : c;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
