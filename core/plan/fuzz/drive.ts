/**
 * Runs mutants through the loader and the dry run in one process, as many as
 * asked, for fuzz.test.ts: thousands a minute where a process per mutant
 * manages a few a second. Each mutant is written to the plan's own folder (a
 * scratch copy) and handed to dryRunCommand, which is what `fanout run
 * --dry-run` calls; a thrown error is sorted by errorKind, which is how
 * cli.ts picks the exit code (internal → 70). One JSON line per mutant on
 * stdout, written before the next starts, so a watchdog that sees no line
 * for too long knows which mutant hangs.
 *
 *   bun --no-install core/plan/fuzz/drive.ts WORK SEED FROM COUNT PLAN...
 *
 * PLAN paths are relative to WORK, the folder holding copies of fixtures/ and
 * examples/. Mutant i is mutant(PLAN[i % plans], SEED, i), as in fuzz.test.ts.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { printDryRun } from "../../commands/dry_run_output.ts";
import { dryRunCommand } from "../../commands/dry_run.ts";
import { errorEvents, errorKind } from "../../telemetry/error_event.ts";
import { mutant } from "./mutate.ts";

export interface DriveLine {
  i: number;
  /** "ok", or the kind of error that refused the plan ("internal" is a bug: exit 70). */
  kind: string;
  /** What the refusal says, one entry per `error:` line. */
  messages: string[];
}

async function one(file: string, bytes: Uint8Array, json: boolean): Promise<Omit<DriveLine, "i">> {
  writeFileSync(file, bytes);
  try {
    const result = await dryRunCommand(file, {});
    let out = "";
    printDryRun(result, json, (s) => (out += s));
    if (json) for (const line of out.split("\n").filter(Boolean)) JSON.parse(line);
    return { kind: "ok", messages: result.warnings };
  } catch (error) {
    return { kind: errorKind(error), messages: errorEvents(error, 2).map((e) => e.message) };
  }
}

if (import.meta.main) {
  const [work, seed, from, count, ...plans] = process.argv.slice(2);
  const sources = plans.map((p) => readFileSync(join(work!, p)));
  for (let i = Number(from); i < Number(from) + Number(count); i++) {
    const p = i % plans.length;
    const file = join(work!, dirname(plans[p]!), ".fuzz-plan.yml");
    const result = await one(file, mutant(sources[p]!, Number(seed), i).bytes, i % 2 === 1);
    process.stdout.write(`${JSON.stringify({ i, ...result })}\n`);
  }
}
