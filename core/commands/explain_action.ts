/** The `explain` command's action: flags → options, then the explanation on stdout. */
import { writeStdout } from "../runtime/stdout.ts";
import { explainCommand } from "./explain.ts";
import { printExplanation } from "./explain_output.ts";
import { journalPath, parseParallelism, parseSelection, parseVars, type RunFlags } from "./run_action.ts";

export type ExplainFlags = Pick<RunFlags, "json" | "parallelism" | "var" | "strict" | "journal" | "limit" | "only" | "startAt">;

export async function explainAction(planFile: string, flags: ExplainFlags): Promise<number> {
  const explanation = await explainCommand(planFile, {
    parallelism: parseParallelism(flags.parallelism),
    vars: parseVars(flags.var),
    strict: Boolean(flags.strict),
    select: parseSelection(flags),
    // Read only: explain never creates a journal (explain.ts).
    journal: journalPath(planFile, { journal: flags.journal }),
    maskOutput: { json: Boolean(flags.json) },
  });
  printExplanation(explanation, Boolean(flags.json), (s) => writeStdout(s));
  return 0;
}
