/**
 * Where a plan's values are written. Every check reports through this
 * interface, so a check does not care whether positions were kept: the YAML
 * package's document keeps them (positioned_source.ts), and a plan parsed by
 * the runtime's own parser has none until one is asked for (load.ts then
 * parses again, with positions).
 */
import type { SourcePosition } from "../errors.ts";

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

/** "tasks[1].module" for ["tasks", 1, "module"]. */
export function formatPath(path: readonly PathKey[]): string {
  let out = "";
  for (const step of path) {
    out += typeof step === "number" ? `[${step}]` : out === "" ? step : `.${step}`;
  }
  return out;
}
