/**
 * Typed errors. They carry where the problem is; cli.ts alone turns them into
 * messages and exit codes.
 */

/** A position in a source file, 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/**
 * The plan is invalid: names the file, line and column, the path inside the
 * plan (`tasks[1].module`) and what was expected.
 */
export class PlanError extends Error {
  override name = "PlanError";
  constructor(
    readonly detail: string,
    readonly position: SourcePosition | undefined,
    readonly path: string = "",
  ) {
    super(formatPlanMessage(detail, position, path));
  }
}

function formatPlanMessage(detail: string, pos: SourcePosition | undefined, path: string): string {
  const where = pos ? `${pos.file}:${pos.line}:${pos.col}: ` : "";
  return `${where}${path ? `${path}: ` : ""}${detail}`;
}

/** Several plan errors found in one pass; the first one leads the message. */
export class PlanErrors extends Error {
  override name = "PlanErrors";
  constructor(readonly errors: PlanError[]) {
    super(errors.map((e) => e.message).join("\n"));
  }
}

/**
 * A module file could not be loaded, or its exports are not a valid module.
 * With a position (a syntax error), the message leads with file:line:col,
 * and names the plugin too when the error is in a file it imports.
 */
export class PluginError extends Error {
  override name = "PluginError";
  readonly position: SourcePosition | undefined;
  constructor(readonly pluginPath: string, detail: string, options: { cause?: unknown; position?: SourcePosition } = {}) {
    super(formatPluginMessage(pluginPath, detail, options.position), "cause" in options ? { cause: options.cause } : undefined);
    this.position = options.position;
  }
}

function formatPluginMessage(pluginPath: string, detail: string, pos: SourcePosition | undefined): string {
  if (!pos) return `${pluginPath}: ${detail}`;
  const importedBy = pos.file === pluginPath ? "" : ` (imported by plugin ${pluginPath})`;
  return `${pos.file}:${pos.line}:${pos.col}: ${detail}${importedBy}`;
}

/** The command line itself is wrong (unknown flag, bad value). */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * The coordinator (Redis) named by --coordinator or the plan's `coordinator:`
 * did not answer at start: nothing ran. `address` has its password masked.
 */
export class CoordinatorError extends Error {
  override name = "CoordinatorError";
  constructor(readonly address: string, detail: string) {
    super(`cannot reach the coordinator ${address}: ${detail}`);
  }
}

/** Causes shown before the chain is cut with "…". */
const MAX_CAUSES = 10;
/** Longest text kept from one message: a thrown value cannot flood a log. */
const MAX_TEXT = 10_000;

/**
 * Human text for any thrown value, with its cause chain:
 * `message (cause: message (cause: …))`. It never throws and always ends,
 * whatever was thrown: a cause chain that loops back (`[Circular]`), a
 * `message` getter or a `toString` that throws, a Proxy whose traps throw.
 */
export function describeError(error: unknown): string {
  const seen: unknown[] = [];
  let text = "";
  let closing = "";
  let current: unknown = error;
  for (;;) {
    text += describeOne(current);
    seen.push(current);
    const cause = causeOf(current);
    if (cause === undefined) break;
    if (seen.includes(cause)) {
      text += " (cause: [Circular])";
      break;
    }
    if (seen.length >= MAX_CAUSES) {
      text += " (cause: …)";
      break;
    }
    text += " (cause: ";
    closing += ")";
    current = cause;
  }
  return text + closing;
}

/** Whether `value` is an Error, or shaped like one from another realm (a worker, a vm context). */
function isErrorLike(value: unknown): value is { message: unknown } {
  try {
    return value instanceof Error || (typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string");
  } catch {
    return false; // a Proxy whose traps throw
  }
}

function causeOf(value: unknown): unknown {
  if (!isErrorLike(value)) return undefined;
  try {
    return (value as { cause?: unknown }).cause;
  } catch {
    return undefined;
  }
}

/** One link of the chain, without its cause. */
function describeOne(value: unknown): string {
  if (isErrorLike(value)) {
    try {
      const message = value.message;
      return cut(typeof message === "string" ? message : plainText(message));
    } catch (thrown) {
      return `an error whose message could not be read (its getter threw ${cut(plainText(thrown))})`;
    }
  }
  return cut(plainText(value));
}

/**
 * Text for a value that is not an error, without recursing: its own
 * toString when it has one, else JSON (`{"code":5}` says more than
 * `[object Object]`), else the `[object X]` tag.
 */
function plainText(value: unknown): string {
  if (typeof value !== "object" || value === null) {
    try {
      return String(value);
    } catch {
      return "an unprintable value";
    }
  }
  try {
    if ((value as { toString?: unknown }).toString !== Object.prototype.toString) return String(value);
  } catch {
    return `${tagOf(value)} (its toString threw)`;
  }
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // Cyclic, a BigInt, a throwing getter or toJSON: the tag will do.
  }
  return tagOf(value);
}

/** `[object Object]`, `[object Map]`: never throws. */
function tagOf(value: object): string {
  try {
    return Object.prototype.toString.call(value);
  } catch {
    return "an unprintable value";
  }
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}
