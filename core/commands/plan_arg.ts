/**
 * The plan a command line names: a file, or `-` for plan YAML on stdin. A
 * plan from stdin is named `<stdin>` in messages, and its relative paths
 * (plugins, globs, item files) resolve against the current directory.
 */
import { PlanError, PlanErrors } from "../errors.ts";
import { type LoadOptions, loadPlan, loadPlanText } from "../plan/load.ts";
import type { Plan } from "../plan/plan.ts";
import { readStdin } from "../runtime/stdin.ts";

export const STDIN_NAME = "<stdin>";

export async function loadPlanArg(arg: string, options: LoadOptions = {}): Promise<Plan> {
  if (arg !== "-") return await loadPlan(arg, options);
  let text: string;
  try {
    text = await readStdin();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new PlanErrors([new PlanError(`cannot read the plan from stdin (${code})`, undefined, STDIN_NAME)]);
  }
  // loadPlanText takes the plan's directory from the name: resolve("<stdin>") is in the current directory.
  return await loadPlanText(text, STDIN_NAME, options);
}
