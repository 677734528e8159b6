/**
 * What a module gave back, turned into an Outcome: its result checked
 * against the TaskResult contract (docs/plugins.md), or the text of what it
 * threw. Pure and never throwing. A result that breaks the contract in a way
 * that can still be read is kept and reported as warnings for the instance's
 * log, never silently changed: a string instead of an object, a negative or
 * NaN `bytes`, data that JSON would alter.
 */
import { describeError } from "./errors.ts";
import { TaskFailure } from "./sdk.ts";
import type { Outcome } from "./run_task.ts";

export interface ModuleOutcome {
  outcome: Outcome;
  /** One line each, for `warn` log events of the instance. */
  warnings: string[];
}

/** Data warnings kept per result; the rest are counted. */
const MAX_DATA_WARNINGS = 10;

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * A TaskFailure is an expected failure: its message (and causes) alone.
 * Any other error class is named ("TypeError: …"): it is likely a bug, and
 * the class says where to look. Safe on any value (a Proxy whose traps throw).
 */
export function thrownText(error: unknown): string {
  const text = describeError(error);
  const name = errorClassName(error);
  return name ? `${name}: ${text}` : text;
}

function errorClassName(error: unknown): string | undefined {
  try {
    if (error instanceof TaskFailure || !(error instanceof Error)) return undefined;
    const name = error.name;
    return typeof name === "string" && name !== "Error" ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The Outcome of a module's returned value, with the warnings it deserves. */
export function fromResult(result: unknown): ModuleOutcome {
  const warnings: string[] = [];
  if (result === undefined || result === null) return { outcome: ok(false, EMPTY, 0), warnings };
  if (typeof result !== "object" || Array.isArray(result)) {
    warnings.push(`the module returned ${kindOf(result)}, not a result object ({ changed, failed, error, data, bytes }): kept as data.value`);
    return withData(ok(false, EMPTY, 0), { value: result }, warnings);
  }
  let fields: { changed: unknown; failed: unknown; error: unknown; data: unknown; bytes: unknown };
  try {
    const r = result as Record<string, unknown>;
    fields = { changed: r.changed, failed: r.failed, error: r.error, data: r.data, bytes: r.bytes };
  } catch (error) {
    return { outcome: failedOutcome(`the module's result could not be read: ${thrownText(error)}`), warnings };
  }
  const bytes = checkBytes(fields.bytes, warnings);
  const outcome: Outcome = fields.failed
    ? { status: "failed", changed: Boolean(fields.changed), error: failureText(fields.error), data: EMPTY, bytes }
    : ok(Boolean(fields.changed), EMPTY, bytes);
  if (fields.data === undefined || fields.data === null) return { outcome, warnings };
  if (typeof fields.data !== "object" || Array.isArray(fields.data)) {
    warnings.push(`data: expected a mapping, got ${kindOf(fields.data)}: kept as data.value`);
    return withData(outcome, { value: fields.data }, warnings);
  }
  return withData(outcome, fields.data as Record<string, unknown>, warnings);
}

function ok(changed: boolean, data: Record<string, unknown>, bytes: number): Outcome {
  return { status: "ok", changed, error: null, data, bytes };
}

function failedOutcome(error: string): Outcome {
  return { status: "failed", changed: false, error, data: EMPTY, bytes: 0 };
}

/** `error` of a `failed: true` result: task_end.error is text (the schema says string or null). */
function failureText(error: unknown): string {
  if (error === undefined || error === null) return "the module reported failure";
  return typeof error === "string" ? error : thrownText(error);
}

/** A count of bytes, or 0 with a warning: never a negative, NaN or infinite bytes_per_s. */
function checkBytes(bytes: unknown, warnings: string[]): number {
  if (bytes === undefined) return 0;
  if (typeof bytes === "number" && Number.isFinite(bytes) && bytes >= 0) return bytes;
  warnings.push(`bytes: expected a non-negative finite number, got ${typeof bytes === "number" ? String(bytes) : kindOf(bytes)}: counted as 0`);
  return 0;
}

/**
 * `outcome` carrying `data` as JSON will write it. Data JSON cannot hold at
 * all (a cycle, a BigInt, a getter that throws) fails the instance; data JSON
 * would change is kept in its JSON form, with a warning per key path.
 */
function withData(outcome: Outcome, data: Record<string, unknown>, warnings: string[]): ModuleOutcome {
  if (isPlainJson(data)) return { outcome: { ...outcome, data }, warnings };
  const changes: string[] = [];
  let json: string;
  try {
    json = JSON.stringify(data, jsonWatcher(changes));
  } catch (error) {
    return { outcome: failedOutcome(`the module returned data that is not JSON-serialisable: ${describeError(error)}`), warnings };
  }
  if (changes.length === 0) return { outcome: { ...outcome, data }, warnings };
  warnings.push(...changes.slice(0, MAX_DATA_WARNINGS));
  if (changes.length > MAX_DATA_WARNINGS) warnings.push(`… and ${changes.length - MAX_DATA_WARNINGS} more values of data that JSON changes`);
  // Every sink (NDJSON, the summary, tests' memory sink) then sees the same data.
  return { outcome: { ...outcome, data: JSON.parse(json) as Record<string, unknown> }, warnings };
}

/**
 * Data whose every value is a string, a finite number, a boolean or null (a
 * shell command's exit code and output, say): JSON writes it as it is, so
 * the walk below has nothing to find. This check costs a microsecond per
 * instance where the walk cost tens, and a run whose results are all like
 * this never runs the walk (its first call alone costs about a
 * millisecond of start-up). A getter that throws sends it to the walk,
 * which reports it.
 */
function isPlainJson(data: Record<string, unknown>): boolean {
  try {
    for (const key of Object.keys(data)) {
      const value = data[key];
      const type = typeof value;
      if (value !== null && type !== "string" && type !== "boolean" && !(type === "number" && Number.isFinite(value))) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * A JSON.stringify replacer that records, by key path, every value JSON
 * would silently drop or change. It sees values after toJSON (a Date is
 * already its string) and knows each object's path from its holder's.
 */
function jsonWatcher(changes: string[]): (this: unknown, key: string, value: unknown) => unknown {
  const paths = new WeakMap<object, string>();
  return function (this: unknown, key: string, value: unknown) {
    const holder = this as object;
    const inArray = Array.isArray(holder);
    const path = paths.has(holder) ? paths.get(holder)! + (inArray ? `[${key}]` : keySegment(key)) : "data";
    const lost = inArray ? "which JSON writes as null" : "which JSON leaves out";
    if (typeof value === "bigint") throw new TypeError(`${path}: a BigInt, which JSON cannot hold`);
    if (typeof value === "function" || typeof value === "symbol" || value === undefined) changes.push(`${path}: ${kindOf(value)}, ${lost}`);
    else if (typeof value === "number" && !Number.isFinite(value)) changes.push(`${path}: ${value}, which JSON writes as null`);
    else if (value instanceof Map || value instanceof Set) changes.push(`${path}: a ${value instanceof Map ? "Map" : "Set"}, which JSON writes as {}`);
    if (typeof value === "object" && value !== null) paths.set(value, path);
    return value;
  };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function keySegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** "a string", "an array", "undefined": for messages. */
function kindOf(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "bigint":
      return "a BigInt";
    case "object":
      return "an object";
    default:
      return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`;
  }
}
