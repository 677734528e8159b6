/**
 * A plan parsed by the runtime's own YAML parser, only where that parser is
 * known to agree with the YAML package (the reference: it keeps positions,
 * refuses duplicate keys, limits aliases). Anything else is left to the
 * package: `parseWithoutPositions` returns undefined, and the caller parses
 * with positioned_source.ts. A wrong "undefined" costs milliseconds; a wrong
 * value would change a plan, so every test here leans to undefined.
 *
 * Where the two parsers differ, and how each difference is kept out:
 * - merge keys (`<<`), tags (`!`), anchors and aliases (`&a`, `*a`),
 *   directives (`%YAML`), documents after the first, complex keys (`? `),
 *   tabs, carriage returns and control characters: refused by `plainEnough`;
 * - duplicate keys (the package refuses them, Bun keeps the last): every key
 *   written in the text is listed by `writtenKeys`, and the parsed value must
 *   hold the same keys, as many times each;
 * - null keys (`~:`, `null:`) and keys that are not written as they parse
 *   (`0x1F:`, `"a\tb":`): the lists differ or the scan gives up.
 */
import { nativeYamlParse } from "../runtime/native_yaml.ts";
import { MAX_DEPTH } from "./source.ts";

/** The plan's value, or undefined when only the YAML package should parse this text. */
export function parseWithoutPositions(text: string): { value: unknown } | undefined {
  if (nativeYamlParse === undefined || !plainEnough(text)) return undefined;
  let value: unknown;
  try {
    value = nativeYamlParse(text);
  } catch {
    return undefined; // the package says what is wrong, and where
  }
  const written = writtenKeys(text);
  if (written === undefined) return undefined;
  const parsed: string[] = [];
  if (!collectKeys(value, parsed)) return undefined;
  return sameList(written, parsed) ? { value } : undefined;
}

// An anchor or an alias: `&name` or `*name` where a node may start.
const ANCHOR_OR_ALIAS = /(?:^|[\s[{,])[&*][^\s,[\]{}]/m;
// A directive, a document marker other than a leading `---`, or an explicit key.
const STRUCTURE = /^(?:%|\.\.\.|[\s-]*\?(?:\s|$))/m;
// Control characters other than a newline (tabs included: indentation by tab is an error to the package).
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/;

function plainEnough(text: string): boolean {
  if (text.includes("<<") || text.includes("!") || CONTROL.test(text)) return false;
  if (ANCHOR_OR_ALIAS.test(text) || STRUCTURE.test(text)) return false;
  // One document: a `---` only as its first line (comments may come before).
  const marker = /^---/gm;
  const first = marker.exec(text);
  if (first && marker.exec(text)) return false;
  const before = first ? text.slice(0, first.index) : "";
  return before.split("\n").every((line) => line.trim() === "" || line.trimStart().startsWith("#"));
}

/**
 * Every object key in a parsed value, depth first; false when lists and
 * mappings nest deeper than MAX_DEPTH (the positioned parse refuses that with
 * a position). Iterative: a hostile plan may nest thousands deep.
 */
function collectKeys(root: unknown, into: string[]): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    if (depth >= MAX_DEPTH) return false;
    if (Array.isArray(value)) {
      for (const v of value) stack.push({ value: v, depth: depth + 1 });
    } else {
      for (const [k, v] of Object.entries(value)) {
        into.push(k);
        stack.push({ value: v, depth: depth + 1 });
      }
    }
  }
  return true;
}

function sameList(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  a.sort();
  b.sort();
  return a.every((k, i) => k === b[i]);
}

/** Indicators a plain scalar may not start with (a few Bun lets through). */
const NOT_PLAIN_START = ",[]{}#&*!|>'\"%@`?";

/** Keys the package would read as something other than the text written. */
const KEYS_NOT_AS_WRITTEN = new Set(["", "~", "null", "Null", "NULL"]);

/**
 * Every mapping key written in the text, block and flow, or undefined when
 * the text holds something this scan does not follow (a key on two lines, a
 * quoted string that does not end, an escape in a key, a scalar, flow
 * collection or quoted string over several lines, whose indentation Bun checks
 * less strictly). It skips comments, quoted values and block scalars, which
 * hold no keys.
 */
export function writtenKeys(text: string): string[] | undefined {
  const keys: string[] = [];
  const lines = text.split("\n");
  // Block scalar content: lines indented more than this (or blank) hold no keys.
  let scalarAbove = -1;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const indent = line.length - line.trimStart().length;
    if (scalarAbove >= 0) {
      if (line.trim() === "" || indent > scalarAbove) continue;
      scalarAbove = -1;
    }
    let i = indent;
    let parent = indent - 1; // the column block content must be deeper than
    // Sequence entries: `- `, `- - `.
    while (line[i] === "-" && (i + 1 === line.length || line[i + 1] === " ")) {
      parent = i;
      i += 1;
      while (line[i] === " ") i++;
    }
    if (i >= line.length || line[i] === "#" || line.startsWith("---", i)) continue;
    const lineBefore = n;
    const node = readNode(lines, n, i, keys);
    if (node === undefined) return undefined;
    if (node.kind === "key") {
      const value = readNode(lines, node.line, node.next, keys);
      if (value === undefined) return undefined;
      if (value.kind === "key") return undefined; // `a: b: c`: an error to both parsers; not ours to follow
      if (value.kind === "block") scalarAbove = i;
      n = value.line;
    } else if (parent < indent) {
      return undefined; // a scalar on a line of its own: a multi-line scalar, whose indentation rules are not followed here
    } else {
      if (node.kind === "block") scalarAbove = parent;
      n = node.line;
    }
    if (n !== lineBefore) return undefined; // a flow collection or quoted string over lines: likewise
  }
  return keys;
}

type Node =
  | { kind: "key" | "value"; line: number; next: number }
  | { kind: "block"; line: number; next: number };

/**
 * Reads what starts at lines[n][i]: a key (the scalar is followed by `:`), a
 * value (scalar, flow collection, nothing), or a block scalar header.
 * `line`/`next` say where reading stopped; flow collections and quoted
 * strings may span lines.
 */
function readNode(lines: string[], n: number, i: number, keys: string[]): Node | undefined {
  const line = lines[n]!;
  while (line[i] === " ") i++;
  if (i >= line.length || line[i] === "#") return { kind: "value", line: n, next: line.length };
  const c = line[i]!;
  if (c === "|" || c === ">") {
    return /^[|>][0-9+-]*\s*(?:#.*)?$/.test(line.slice(i)) ? { kind: "block", line: n, next: line.length } : undefined;
  }
  if (c === "{" || c === "[") {
    const end = readFlow(lines, n, i, keys);
    if (end === undefined) return undefined;
    const rest = lines[end.line]!.slice(end.next).trim();
    return rest === "" || rest.startsWith("#") ? { kind: "value", line: end.line, next: lines[end.line]!.length } : undefined;
  }
  if (c === "\"" || c === "'") {
    const end = readQuoted(lines, n, i);
    if (end === undefined) return undefined;
    const after = lines[end.line]!.slice(end.next);
    if (/^\s*:(?:\s|$)/.test(after)) {
      if (end.line !== n || end.escaped) return undefined;
      return key(quotedText(line, i, end.next), keys) ? { kind: "key", line: n, next: end.next + after.indexOf(":") + 1 } : undefined;
    }
    const rest = after.trim();
    return rest === "" || rest.startsWith("#") ? { kind: "value", line: end.line, next: lines[end.line]!.length } : undefined;
  }
  // A plain scalar (which may not start with an indicator: Bun allows some):
  // a key if `: ` (or a final `:`) comes before any ` #`.
  if (NOT_PLAIN_START.includes(c)) return undefined;
  const comment = line.indexOf(" #", i);
  const stop = comment === -1 ? line.length : comment;
  for (let j = line.indexOf(":", i); j !== -1 && j < stop; j = line.indexOf(":", j + 1)) {
    if (j + 1 === line.length || line[j + 1] === " ") return key(line.slice(i, j).trimEnd(), keys) ? { kind: "key", line: n, next: j + 1 } : undefined;
  }
  return { kind: "value", line: n, next: line.length };
}

/** Lists a key; false for a key the package would not read as written. */
function key(name: string, keys: string[]): boolean {
  if (KEYS_NOT_AS_WRITTEN.has(name)) return false;
  keys.push(name);
  return true;
}

/**
 * The text of a one-line quoted scalar from its opening quote at `start` to
 * just past its closing one: `''` in single quotes is one `'`; a double-quoted
 * one here holds no escape (readQuoted says so, and such keys are not followed).
 */
function quotedText(line: string, start: number, end: number): string {
  const inner = line.slice(start + 1, end - 1);
  return line[start] === "'" ? inner.replaceAll("''", "'") : inner;
}

/** Finds the end of a quoted scalar that starts at lines[n][i]; `escaped`: it holds a backslash escape. */
function readQuoted(lines: string[], n: number, i: number): { line: number; next: number; escaped: boolean } | undefined {
  const quote = lines[n]![i]!;
  let escaped = false;
  let j = i + 1;
  for (; n < lines.length; n++, j = 0) {
    const line = lines[n]!;
    for (; j < line.length; j++) {
      const c = line[j];
      if (quote === "\"" && c === "\\") {
        escaped = true;
        j++;
      } else if (c === quote) {
        if (quote === "'" && line[j + 1] === "'") j++;
        else return { line: n, next: j + 1, escaped };
      }
    }
  }
  return undefined;
}

/**
 * Reads a flow collection from lines[n][i] (`{` or `[`) to its closing
 * bracket, listing the keys of its mappings (and of single-pair mappings in
 * sequences, `[a: 1]`). Returns where it ended.
 */
function readFlow(lines: string[], n: number, i: number, keys: string[]): { line: number; next: number } | undefined {
  let depth = 0;
  while (n < lines.length) {
    const line = lines[n]!;
    const c = line[i];
    if (c === undefined || (c === "#" && (i === 0 || line[i - 1] === " "))) {
      n++; // the end of the line, or a comment to it
      i = 0;
    } else if (c === " ") {
      i++;
    } else if (c === "{" || c === "[") {
      depth++;
      i++;
    } else if (c === "}" || c === "]") {
      depth--;
      i++;
      if (depth === 0) return { line: n, next: i };
    } else if (c === ",") {
      i++;
    } else if (c === ":") {
      return undefined; // a key that is empty, or a collection used as a key
    } else if (c === "\"" || c === "'") {
      const end = readQuoted(lines, n, i);
      if (end === undefined) return undefined;
      const after = lines[end.line]!.slice(end.next);
      if (/^ *:/.test(after)) {
        if (end.line !== n || end.escaped) return undefined; // a key on two lines, or with escapes: not followed here
        if (!key(quotedText(line, i, end.next), keys)) return undefined;
        i = end.next + after.indexOf(":") + 1;
      } else {
        n = end.line;
        i = end.next;
      }
    } else {
      if (NOT_PLAIN_START.includes(c)) return undefined;
      // A plain scalar ends at a flow indicator, at `: ` (or `:` before one), or at ` #`.
      const start = i;
      while (i < line.length && !",[]{}".includes(line[i]!) && !(line[i] === ":" && (i + 1 === line.length || " ,[]{}".includes(line[i + 1]!))) && !(line[i] === "#" && line[i - 1] === " ")) i++;
      let j = i;
      while (line[j] === " ") j++;
      if (line[j] === ":") {
        if (!key(line.slice(start, i).trimEnd(), keys)) return undefined;
        i = j + 1;
      }
    }
  }
  return undefined;
}
