/**
 * Where a plan's values are written. Every check reports through this
 * interface, so a check does not care whether positions were kept: the YAML
 * package's document keeps them (positioned_source.ts), and a plan parsed by
 * the runtime's own parser has none until one is asked for (load.ts then
 * parses again, with positions).
 */
import { PlanError, type SourcePosition } from "../errors.ts";

export type PathKey = string | number;

export interface YamlSource {
  readonly file: string;
  /**
   * Where the value at `path` is written; with `key: true`, where its key is.
   * Falls back to the nearest ancestor that exists (a missing key is reported
   * at the mapping that lacks it).
   */
  positionOf(path: readonly PathKey[], options?: { key?: boolean }): SourcePosition;
}

/**
 * A source without positions. Asking for one is how the loader learns that
 * something is to be reported (an error, a warning): it then loads the plan
 * again from a positioned source, so that every message points at file:line:col.
 */
export class PositionsNotKept implements YamlSource {
  /** Whether any position was asked for. */
  asked = false;

  constructor(readonly file: string) {}

  positionOf(): SourcePosition {
    this.asked = true;
    return { file: this.file, line: 0, col: 0 };
  }
}

/** Lists and mappings may nest this deep: past it, the yaml library's alias resolution takes minutes. */
export const MAX_DEPTH = 100;

/** More than this many problems are summed up as "… and N more". */
export const MAX_ERRORS = 20;

/**
 * The first MAX_ERRORS of `problems` as errors, then a line saying how many
 * more there were: only the ones shown are turned into errors (a damaged
 * file can have a problem every few bytes).
 */
export function capped<T>(problems: readonly T[], toError: (problem: T) => PlanError): PlanError[] {
  const shown = problems.slice(0, MAX_ERRORS).map(toError);
  if (problems.length > MAX_ERRORS) shown.push(new PlanError(`… and ${problems.length - MAX_ERRORS} more problems`, undefined));
  return shown;
}

/** "tasks[1].module" for ["tasks", 1, "module"]. */
export function formatPath(path: readonly PathKey[]): string {
  let out = "";
  for (const step of path) {
    out += typeof step === "number" ? `[${step}]` : out === "" ? step : `.${step}`;
  }
  return out;
}
