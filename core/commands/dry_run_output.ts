/**
 * Prints `--dry-run` output: NDJSON lines with --json, else one block per
 * instance, like `make -n`: what it is and what it takes, then what it runs.
 */
import { formatDuration } from "../units.ts";
import type { CallLine, DryRun, DryRunLine } from "./dry_run.ts";

export function printDryRun(result: DryRun, json: boolean, write: (text: string) => void): void {
  const { plan, lines, forks, reason, warnings } = result;
  if (json) {
    write(JSON.stringify({ type: "plan", plan: plan.name, instances: lines.length, forks, reason, warnings }) + "\n");
    for (const line of lines) write(JSON.stringify(line) + "\n");
    return;
  }
  write(`plan ${plan.name}: ${lines.length} instance${lines.length === 1 ? "" : "s"}, forks ${forks} (${reason})\n`);
  for (const line of lines) write(humanLine(line));
}

function humanLine(line: DryRunLine): string {
  const guards = line.guards.length > 0 ? line.guards.map((g) => (g.amount === 1 ? g.name : `${g.name}×${g.amount}`)).join(", ") : "none";
  const head = [`${line.id}  module ${line.module}  guards ${guards}`];
  if (line.needs.length > 0) head.push(`after ${line.needs.join(", ")}`);
  if (line.timeout_ms !== null) head.push(`timeout ${formatDuration(line.timeout_ms)}`);
  if (line.retries > 0) head.push(`retries ${line.retries} (${formatDuration(line.retry_delay_ms)} apart)`);
  const body = line.race
    ? line.race.map((call, i) => `  race[${i}] ${call.module}: ${runs(call)}\n`)
    : [`  ${runs(line)}\n`];
  return `${head.join("  ")}\n${body.join("")}`;
}

/** `$ echo hi` for a command, else the input as JSON. */
function runs(call: Pick<CallLine, "input" | "command">): string {
  return call.command !== null ? `$ ${call.command}` : `with ${JSON.stringify(call.input)}`;
}
