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

/** A module file could not be loaded, or its exports are not a valid module. */
export class PluginError extends Error {
  override name = "PluginError";
  constructor(readonly pluginPath: string, detail: string, options?: { cause?: unknown }) {
    super(`${pluginPath}: ${detail}`, options);
  }
}

/** The command line itself is wrong (unknown flag, bad value). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Human text for any thrown value, with its cause chain. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause !== undefined ? ` (cause: ${describeError(error.cause)})` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}
