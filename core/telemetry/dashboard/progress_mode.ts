/**
 * `--progress auto|always|never`: whether human progress on stderr is the
 * live dashboard or the line output. `auto` draws the dashboard only on a
 * terminal that may be drawn on: not when NO_COLOR is set, not on
 * TERM=dumb, and not when --output prints instances' output among it.
 */
export const PROGRESS_MODES = ["auto", "always", "never"] as const;
export type ProgressMode = typeof PROGRESS_MODES[number];

export interface ProgressContext {
  /** stderr is a terminal. */
  tty: boolean;
  env: Record<string, string | undefined>;
  /** --output streams instances' output to stdout and stderr. */
  output: boolean;
}

export function useDashboard(mode: ProgressMode, context: ProgressContext): boolean {
  if (mode !== "auto") return mode === "always";
  return context.tty && !context.env.NO_COLOR && context.env.TERM !== "dumb" && !context.output;
}
