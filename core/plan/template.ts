/**
 * `{{ host }}`, `{{ item }}`, `{{ item.name }}`, `{{ vars.pkg }}`, `{{ task }}`:
 * plain substitution of a dotted path, never code evaluation. A string that is
 * exactly one reference keeps the referenced value's type (a list stays a
 * list); references inside longer text are stringified.
 *
 * Templates are compiled once per task and rendered per instance, so a task
 * with 100,000 items does not re-parse its inputs 100,000 times.
 */

export interface TemplateScope {
  host: string;
  item: unknown;
  vars: Record<string, unknown>;
  task: string;
}

export const TEMPLATE_ROOTS = ["host", "item", "vars", "task"] as const;

const REFERENCE = /\{\{(.*?)\}\}/g;
const DOTTED = /^\s*([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_-]+)*)\s*$/;

export interface Reference {
  root: string;
  path: string[];
  /** The whole `{{ … }}` text, for error messages. */
  text: string;
}

/** Every reference in a string, or an error message for a malformed one. */
export function scanReferences(text: string): { refs: Reference[]; error?: string } {
  const refs: Reference[] = [];
  for (const m of text.matchAll(REFERENCE)) {
    const d = DOTTED.exec(m[1]!);
    if (!d) {
      return { refs, error: `template ${m[0]} is not a plain reference; expected {{ host }}, {{ item }}, {{ item.field }}, {{ vars.name }} or {{ task }}` };
    }
    refs.push({ root: d[1]!, path: d[2] ? d[2].slice(1).split(".") : [], text: m[0] });
  }
  return { refs };
}

export type Rendered<T = unknown> = (scope: TemplateScope) => T;

/** Compiles a value (string, list, mapping, scalar) into a renderer. */
export function compile(value: unknown): Rendered {
  if (typeof value === "string") return compileString(value);
  if (Array.isArray(value)) {
    const parts = value.map(compile);
    if (value.every((_, i) => isConstant(parts[i]!))) return constant(value);
    return (scope) => parts.map((p) => p(scope));
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => [k, compile(v)] as const);
    if (entries.every(([, p]) => isConstant(p))) return constant(value);
    return (scope) => Object.fromEntries(entries.map(([k, p]) => [k, p(scope)]));
  }
  return constant(value);
}

const CONSTANT = Symbol("constant");

function constant(value: unknown): Rendered {
  const fn = () => value;
  (fn as unknown as Record<symbol, boolean>)[CONSTANT] = true;
  return fn;
}

function isConstant(fn: Rendered): boolean {
  return (fn as unknown as Record<symbol, boolean>)[CONSTANT] === true;
}

function compileString(text: string): Rendered {
  const { refs } = scanReferences(text);
  if (refs.length === 0) return constant(text);
  const only = refs.length === 1 && text.trim() === refs[0]!.text ? refs[0]! : undefined;
  if (only) return (scope) => lookup(scope, only);
  const pieces = text.split(REFERENCE); // odd indexes are the captured insides
  const lookups = refs.slice();
  return (scope) => {
    let out = "";
    for (let i = 0; i < pieces.length; i++) {
      if (i % 2 === 0) out += pieces[i];
      else out += stringify(lookup(scope, lookups[(i - 1) / 2]!));
    }
    return out;
  };
}

/** Renders a string template to a string (hint keys, cwd). */
export function renderString(text: string, scope: TemplateScope): string {
  return stringify(compileString(text)(scope));
}

/** Thrown when an item field a template names is missing at render time. */
export class TemplateError extends Error {
  override name = "TemplateError";
}

function lookup(scope: TemplateScope, ref: Reference): unknown {
  let value: unknown = (scope as unknown as Record<string, unknown>)[ref.root];
  for (const key of ref.path) {
    if (value === null || typeof value !== "object" || !(key in value)) {
      throw new TemplateError(`${ref.text}: no "${key}" in ${ref.root}${ref.path.length > 1 ? ` path ${ref.path.join(".")}` : ""}`);
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Calls `visit` for every string inside a value, with its path. */
export function eachString(value: unknown, path: (string | number)[], visit: (s: string, path: (string | number)[]) => void): void {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => eachString(v, [...path, i], visit));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) eachString(v, [...path, k], visit);
  }
}
