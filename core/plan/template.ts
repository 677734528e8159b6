/**
 * `{{ host }}`, `{{ item }}`, `{{ item.name }}`, `{{ vars.pkg }}`, `{{ task }}`,
 * `{{ secrets.token }}`:
 * plain substitution of a dotted path through own properties, never code
 * evaluation and never a prototype. A string that is exactly one reference
 * keeps the referenced value's type (a list stays a list); references inside
 * longer text are stringified, and escaped where the field asks for it (shell
 * code: see shell_quote.ts).
 *
 * Templates are compiled once per task and rendered per instance, so a task
 * with 100,000 items does not re-parse its inputs 100,000 times.
 */

export interface TemplateScope {
  /** The host's name. */
  host: string;
  /** The host's vars: `{{ host.vars.x }}`. */
  hostVars?: Readonly<Record<string, unknown>>;
  item: unknown;
  vars: Record<string, unknown>;
  task: string;
  /** The plan's secrets; only inputs (`with:`) are rendered with them, never hint keys. */
  secrets?: Readonly<Record<string, string>>;
}

export const TEMPLATE_ROOTS = ["host", "item", "vars", "task", "secrets"] as const;

const REFERENCE = /\{\{(.*?)\}\}/gs;
const DOTTED = /^\s*([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_-]+)*)\s*(?:\|\s*(raw)\s*)?$/;
const FORMS = "expected {{ host }}, {{ item }}, {{ item.field }}, {{ vars.name }}, {{ secrets.name }} or {{ task }}, optionally with | raw";

export interface Reference {
  root: string;
  path: string[];
  /** `{{ x | raw }}`: substituted as it is, even into shell code. */
  raw: boolean;
  /** The whole `{{ … }}` text, for error messages. */
  text: string;
  /** Where it starts in the string. */
  start: number;
}

/** Every reference in a string, or an error message for a malformed one. */
export function scanReferences(text: string): { refs: Reference[]; error?: string } {
  const refs: Reference[] = [];
  if (!text.includes("{{")) return { refs };
  let end = 0;
  for (const m of text.matchAll(REFERENCE)) {
    end = m.index + m[0].length;
    const d = DOTTED.exec(m[1]!);
    if (!d) return { refs, error: `template ${m[0]} is not a plain reference; ${FORMS}` };
    refs.push({ root: d[1]!, path: d[2] ? d[2].slice(1).split(".") : [], raw: d[3] !== undefined, text: m[0], start: m.index });
  }
  // The pattern is lazy: a "{{" it left behind has no "}}" after it.
  if (text.includes("{{", end)) return { refs, error: `unclosed "{{" in ${JSON.stringify(text)}: close it with "}}" (${FORMS})` };
  return { refs };
}

export type Rendered<T = unknown> = (scope: TemplateScope) => T;

/** Turns a substituted value's text into what the target reads (e.g. shell quoting). */
export type Escape = (text: string) => string;

/**
 * Compiles a value (string, list, mapping, scalar) into a renderer. With
 * `escape`, every value substituted into text is passed through it (a
 * `| raw` reference is not), and a string that is one reference yields text.
 */
export function compile(value: unknown, escape?: Escape): Rendered {
  if (typeof value === "string") return compileString(value, escape);
  if (Array.isArray(value)) {
    const parts = value.map((v) => compile(v, escape));
    if (value.every((_, i) => isConstant(parts[i]!))) return constant(value);
    return (scope) => parts.map((p) => p(scope));
  }
  if (value !== null && typeof value === "object") return compileFields(value as Record<string, unknown>, () => escape);
  return constant(value);
}

/** A mapping whose fields may each be escaped differently (`cmd` is shell code, `env` is not). */
export function compileFields(fields: Record<string, unknown>, escapeOf: (key: string) => Escape | undefined): Rendered {
  const entries = Object.entries(fields).map(([k, v]) => [k, compile(v, escapeOf(k))] as const);
  if (entries.every(([, p]) => isConstant(p))) return constant(fields);
  return (scope) => Object.fromEntries(entries.map(([k, p]) => [k, p(scope)]));
}

const CONSTANT = Symbol("constant");

function constant(value: unknown): Rendered {
  const fn = () => value;
  (fn as unknown as Record<symbol, boolean>)[CONSTANT] = true;
  return fn;
}

/** True for a renderer with no template in it: it gives the same value for every instance. */
export function isConstant(fn: Rendered): boolean {
  return (fn as unknown as Record<symbol, boolean>)[CONSTANT] === true;
}

function compileString(text: string, escape: Escape | undefined): Rendered {
  const { refs } = scanReferences(text);
  if (refs.length === 0) return constant(text);
  const only = refs.length === 1 && text.trim() === refs[0]!.text ? refs[0]! : undefined;
  if (only && (!escape || only.raw)) return (scope) => lookup(scope, only);
  const pieces = text.split(REFERENCE); // odd indexes are the captured insides
  const subs = refs.map((ref) => (!escape || ref.raw ? stringify : (v: unknown) => escape(stringify(v))));
  return (scope) => {
    let out = "";
    for (let i = 0; i < pieces.length; i++) {
      if (i % 2 === 0) out += pieces[i];
      else {
        const k = (i - 1) / 2;
        out += subs[k]!(lookup(scope, refs[k]!));
      }
    }
    return out;
  };
}

/** Compiled string templates by their text: the texts are the plan's own, so the cache is as large as the plan. */
const compiledStrings = new Map<string, Rendered>();

/** Renders a string template to a string (hint keys, cwd), compiled once per text however many instances render it. */
export function renderString(text: string, scope: TemplateScope): string {
  let render = compiledStrings.get(text);
  if (!render) compiledStrings.set(text, (render = compileString(text, undefined)));
  return stringify(render(scope));
}

/** Thrown when an item field a template names is missing at render time. */
export class TemplateError extends Error {
  override name = "TemplateError";
}

function lookup(scope: TemplateScope, ref: Reference): unknown {
  // `{{ host }}` is the name, a string; `{{ host.vars.x }}` reaches the host's vars beside it.
  if (ref.root === "host" && ref.path[0] === "vars") {
    const rest = ref.path.slice(1);
    const found = followPath(scope.hostVars ?? {}, rest);
    if (found.ok) return found.value;
    throw new TemplateError(`${ref.text}: ${missText(["host.vars", ...rest.slice(0, found.depth)].join("."), rest[found.depth]!, found.holder)}`);
  }
  if (!Object.hasOwn(scope, ref.root)) throw new TemplateError(`${ref.text}: unknown template root "${ref.root}"`);
  const found = followPath((scope as unknown as Record<string, unknown>)[ref.root], ref.path);
  if (found.ok) return found.value;
  throw new TemplateError(`${ref.text}: ${missText([ref.root, ...ref.path.slice(0, found.depth)].join("."), ref.path[found.depth]!, found.holder)}`);
}

export type PathResult = { ok: true; value: unknown } | { ok: false; depth: number; holder: unknown };

/**
 * Follows `path` through own properties only: `constructor`, `__proto__`
 * or `toString` are never found on a prototype. `depth` is the index of the
 * key that was not found, `holder` the value that lacked it.
 */
export function followPath(value: unknown, path: readonly string[]): PathResult {
  let node = value;
  for (let depth = 0; depth < path.length; depth++) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, path[depth]!)) return { ok: false, depth, holder: node };
    node = (node as Record<string, unknown>)[path[depth]!];
  }
  return { ok: true, value: node };
}

/** `no "port" in item.server; it has: host, name` or `vars.x is a string, not a mapping with "y"`. */
export function missText(where: string, key: string, holder: unknown, suggestion = ""): string {
  if (holder === null || typeof holder !== "object") return `${where} is ${kindOf(holder)}, not a mapping with "${key}"`;
  const keys = Object.keys(holder);
  const shown = keys.length > 10 ? `${keys.slice(0, 10).join(", ")}, …` : keys.join(", ");
  return `no "${key}" in ${where}${suggestion}${keys.length > 0 ? `; it has: ${shown}` : " (it is empty)"}`;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "missing";
  const text = JSON.stringify(value);
  const shown = text.length > 40 ? `${text.slice(0, 37)}…` : text;
  return `a ${typeof value} (${shown})`;
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
