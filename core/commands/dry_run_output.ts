/** Prints `--dry-run` output: NDJSON lines with --json, else a readable list. */
import type { dryRunCommand } from "./run.ts";

type DryRun = Awaited<ReturnType<typeof dryRunCommand>>;

export function printDryRun(result: DryRun, json: boolean, write: (text: string) => void): void {
  const { plan, lines, forks, reason, warnings } = result;
  if (json) {
    write(JSON.stringify({ type: "plan", plan: plan.name, instances: lines.length, forks, reason, warnings }) + "\n");
    for (const line of lines) write(JSON.stringify(line) + "\n");
    return;
  }
  write(`plan ${plan.name}: ${lines.length} instance${lines.length === 1 ? "" : "s"}, forks ${forks} (${reason})\n`);
  for (const line of lines) {
    const guards = line.guards.length > 0 ? line.guards.map((g) => (g.amount === 1 ? g.name : `${g.name}×${g.amount}`)).join(", ") : "none";
    const needs = line.needs.length > 0 ? `  after ${line.needs.join(", ")}` : "";
    write(`${line.id}  module ${line.module}  guards ${guards}${needs}\n`);
  }
}
