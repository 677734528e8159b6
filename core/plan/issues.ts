/**
 * Turns valibot issues into PlanErrors that point at the offending YAML node,
 * say what was expected, and suggest the key that was probably meant.
 */
import * as v from "../deps_valibot.ts";
import { PlanError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import { formatPath, type PathKey, type YamlSource } from "./source.ts";

type Issue = v.BaseIssue<unknown>;
type AnySchema = v.GenericSchema;

/**
 * Validates a mapping field by field against `entries` (a strict object's
 * schemas), so that one bad field does not hide the others: every unknown
 * key, every missing required key and every malformed value is reported,
 * and `parts` holds the fields that passed (defaults applied). `complete` is
 * true when nothing was wrong.
 */
export function parseFields(
  entries: Readonly<Record<string, AnySchema>>,
  value: unknown,
  source: YamlSource,
  base: readonly PathKey[],
  what: string,
): { parts: Record<string, unknown>; errors: PlanError[]; complete: boolean } {
  const at = (path: PathKey[], detail: string, key = false) => new PlanError(detail, source.positionOf(path, { key }), formatPath(path));
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const got = value === null ? "null" : Array.isArray(value) ? "a list" : JSON.stringify(value);
    return { parts: {}, errors: [at([...base], `expected ${what}, got ${got}`)], complete: false };
  }
  const raw = value as Record<string, unknown>;
  const allowed = Object.keys(entries);
  const errors: PlanError[] = [];
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(entries, key)) {
      errors.push(at([...base, key], `unknown key "${key}"${didYouMean(key, allowed)}; expected one of: ${allowed.join(", ")}`, true));
    }
  }
  const parts: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(entries)) {
    const result = v.safeParse(schema, raw[key], { abortPipeEarly: true });
    if (result.success) {
      if (result.output !== undefined) parts[key] = result.output;
    } else if (!Object.hasOwn(raw, key)) {
      errors.push(at([...base, key], `missing required key "${key}"`));
    } else {
      errors.push(...issuesToErrors(result.issues, schema, source, [...base, key]));
    }
  }
  return { parts, errors, complete: errors.length === 0 };
}

export function issuesToErrors(
  issues: readonly Issue[],
  schema: AnySchema,
  source: YamlSource,
  base: readonly PathKey[],
): PlanError[] {
  const errors: PlanError[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    for (const { path, message, atKey } of explain(issue, schema, [])) {
      const full = [...base, ...path];
      const error = new PlanError(message, source.positionOf(full, { key: atKey }), formatPath(full));
      if (!seen.has(error.message)) {
        seen.add(error.message);
        errors.push(error);
      }
    }
  }
  return errors.sort((a, b) => (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.col ?? 0) - (b.position?.col ?? 0));
}

interface Explained {
  path: PathKey[];
  message: string;
  atKey: boolean;
}

function explain(issue: Issue, root: AnySchema, prefix: PathKey[]): Explained[] {
  const path = [...prefix, ...(issue.path ?? []).map((p) => p.key as PathKey)];
  const isObjectKeyIssue = issue.type === "strict_object" || issue.type === "object";
  if (isObjectKeyIssue && issue.expected === "never") {
    const key = String(path[path.length - 1]);
    const allowed = keysAt(root, path.slice(0, -1));
    const hint = allowed.length > 0 ? `; expected one of: ${allowed.join(", ")}` : "";
    return [{ path, message: `unknown key "${key}"${didYouMean(key, allowed)}${hint}`, atKey: true }];
  }
  if (isObjectKeyIssue && issue.received === "undefined") {
    const key = String(path[path.length - 1]);
    return [{ path, message: `missing required key "${key}"`, atKey: false }];
  }
  // A union of objects: when the input was an object, the specific field
  // problem of the matching option says more than "expected one of …".
  // Only when exactly one option takes objects: with several, their issues mix.
  if ((issue.type === "union" || issue.type === "variant") && objectOptionsAt(root, path) <= 1) {
    const specific = (issue.issues ?? []).filter((sub) => (sub.path?.length ?? 0) > 0);
    if (specific.length > 0 && typeof issue.input === "object" && issue.input !== null) {
      return specific.flatMap((sub) => explain(sub, root, path.slice(0, path.length - 0)).map((e) => ({ ...e, path: dedupePrefix(e.path, path) })));
    }
  }
  // "got Object" tells nobody anything; a scalar is worth showing.
  const got = issue.received === "Object" || issue.received === "Array" ? "" : `, got ${issue.received}`;
  const base = issue.message.startsWith("Invalid ")
    ? `expected ${issue.expected ?? "a valid value"}${got}`
    : `${issue.message}${got}`;
  const suggestion = typeof issue.input === "string" ? didYouMean(issue.input, literalsAt(root, path)) : "";
  return [{ path, message: base + suggestion, atKey: false }];
}

/** Sub-issues of a union carry absolute paths in some valibot versions and relative ones in others. */
function dedupePrefix(path: PathKey[], prefix: PathKey[]): PathKey[] {
  const doubled = prefix.length > 0 && prefix.every((k, i) => path[prefix.length + i] === k);
  return doubled ? [...prefix, ...path.slice(prefix.length * 2)] : path;
}

/** The keys an object schema at `path` accepts (for "did you mean"). */
function keysAt(schema: AnySchema, path: readonly PathKey[]): string[] {
  let candidates: AnySchema[] = [schema];
  for (const step of path) {
    candidates = candidates.flatMap((s) => childSchemas(s, step));
  }
  const keys = new Set<string>();
  for (const s of candidates.flatMap(unwrap)) {
    const entries = (s as unknown as { entries?: Record<string, unknown> }).entries;
    if (entries) for (const k of Object.keys(entries)) keys.add(k);
  }
  return [...keys];
}

/** How many options of the union at `path` accept an object (a variant counts as one). */
function objectOptionsAt(schema: AnySchema, path: readonly PathKey[]): number {
  let candidates: AnySchema[] = [schema];
  for (const step of path) candidates = candidates.flatMap((s) => childSchemas(s, step));
  let count = 0;
  for (const s of candidates) {
    const x = s as unknown as { type: string; options?: AnySchema[]; wrapped?: AnySchema };
    const union = x.wrapped ?? s;
    const options = (union as unknown as { type: string; options?: AnySchema[] });
    if (options.type === "variant") count += 1;
    else for (const o of options.options ?? []) {
      const t = (o as unknown as { type: string }).type;
      if (t === "variant" || t.endsWith("object") || t === "record") count++;
    }
  }
  return count;
}

/** The string literals a schema at `path` accepts (picklists, literals). */
function literalsAt(schema: AnySchema, path: readonly PathKey[]): string[] {
  let candidates: AnySchema[] = [schema];
  for (const step of path) candidates = candidates.flatMap((s) => childSchemas(s, step));
  const out: string[] = [];
  for (const s of candidates.flatMap(unwrap)) {
    const x = s as unknown as { type: string; options?: unknown[]; literal?: unknown };
    if (x.type === "picklist") out.push(...(x.options ?? []).filter((o): o is string => typeof o === "string"));
    if (x.type === "literal" && typeof x.literal === "string") out.push(x.literal);
  }
  return out;
}

function unwrap(schema: AnySchema): AnySchema[] {
  const s = schema as unknown as { type: string; wrapped?: AnySchema; options?: AnySchema[] };
  if (s.wrapped) return unwrap(s.wrapped);
  if (s.options && (s.type === "union" || s.type === "variant")) return s.options.flatMap(unwrap);
  return [schema];
}

function childSchemas(schema: AnySchema, step: PathKey): AnySchema[] {
  return unwrap(schema).flatMap((s) => {
    const x = s as unknown as { entries?: Record<string, AnySchema>; item?: AnySchema; value?: AnySchema };
    if (x.entries && typeof step === "string" && x.entries[step]) return [x.entries[step]!];
    if (x.item && typeof step === "number") return [x.item];
    if (x.value) return [x.value];
    return [];
  });
}
