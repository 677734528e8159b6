/** Prints `fanout explain`: one JSON object with --json, else sections a person reads top to bottom. */
import { formatDuration } from "../units.ts";
import type { Explanation, TaskExplained } from "./explain.ts";

export function printExplanation(e: Explanation, json: boolean, write: (text: string) => void): void {
  if (json) return write(`${JSON.stringify(e)}\n`);
  const out: string[] = [];
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;
  out.push(`plan ${e.plan} (${e.file}): ${n(e.instances, "instance")} of ${n(e.tasks.length, "task")} on ${n(e.hosts.length, "host")}`);
  if (e.selection) out.push(`selected: ${e.selection.tasks.join(", ")} on ${e.selection.hosts.join(", ")}`);

  out.push("", "Tasks");
  const width = Math.max(...e.tasks.map((t) => t.name.length));
  for (const t of e.tasks) {
    const items = t.items === null ? "" : ` × ${n(t.items, "item")}`;
    const after = t.after.length > 0 ? `  after ${t.after.join(", ")}` : "";
    out.push(`  ${t.name.padEnd(width)}  ${t.module}  ${n(t.instances, "instance")} (${t.hosts.join(", ")}${items})${after}`);
    out.push(`  ${"".padEnd(width)}  ${hintText(t)}  resources ${resourcesText(t)}${limitsText(t)}`);
  }

  out.push("", "Guards");
  const rows: [string, string, string][] = [["forks", String(e.parallelism.effective), "the fork limit: every instance takes one slot"]];
  for (const g of e.guards) {
    const rate = g.per_second !== undefined ? ` (burst; ${g.per_second}/s)` : "";
    rows.push([g.name, `${g.capacity}${rate}`, `${n(g.instances, "instance")} of ${g.tasks.join(", ")}`]);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [name, capacity, what] of rows) out.push(`  ${name.padEnd(w0)}  ${capacity.padEnd(w1)}  ${what}`);

  const p = e.parallelism;
  out.push("", `Parallelism: ${p.effective} (${p.mode}): ${String(p.reason ?? "")}`);
  out.push(`  from: ${p.available_cores} cores; cpu tokens ${p.cpu_tokens} (${p.cpu_reason}); io depth ${p.io_depth} (${p.io_reason}); ${p.eligible_instances} instances`);

  out.push("", `Critical path: ${n(e.critical_path.steps, "step")}: ${e.critical_path.path.join(" → ") || "none"}`);
  if (e.critical_path_time) out.push(`  in time: ${formatDuration(e.critical_path_time.ms!)}: ${e.critical_path_time.path.join(" → ")}`);

  out.push("", e.conflicts.length === 0 ? "Conflicts: none" : "Conflicts:", ...e.conflicts.map((c) => `  ${c}`));
  if (e.warnings.length > 0) out.push("", "Warnings:", ...e.warnings.map((w) => `  ${w}`));

  out.push("", ...makespanText(e));
  write(`${out.join("\n")}\n`);
}

function hintText(t: TaskExplained): string {
  const { kind, from, ...rest } = t.hint;
  const params = Object.entries(rest).map(([k, v]) => `${k} ${v}`).join(", ");
  return `hint ${kind}${params ? ` ${params}` : ""} (${from})`;
}

function resourcesText(t: TaskExplained): string {
  const entries = Object.entries(t.resources);
  if (entries.length === 0) return "none";
  return entries.map(([k, { value, from }]) => `${k} ${value} (${from})`).join(", ");
}

function limitsText(t: TaskExplained): string {
  const parts: string[] = [];
  if (t.timeout_ms !== null) parts.push(`timeout ${formatDuration(t.timeout_ms)}`);
  if (t.retries > 0) parts.push(`retries ${t.retries}`);
  return parts.length > 0 ? `  ${parts.join(", ")}` : "";
}

function makespanText(e: Explanation): string[] {
  const d = e.durations;
  if (d.journal === null) return ["Makespan: no journal with earlier runs of this plan (run it once with the journal on, the default)"];
  if (!e.makespan) return [`Makespan: the journal (${d.journal}) has no instance of this plan that ended ok`];
  const runs = d.runs.length === 1 ? `run ${d.runs[0]}` : `runs ${d.runs[0]}–${d.runs[d.runs.length - 1]}`;
  const coverage = [`${d.recorded} timed`, ...(d.estimated > 0 ? [`${d.estimated} from their task's median`] : []), ...(d.unknown > 0 ? [`${d.unknown} unknown, counted as 0`] : [])];
  const terms = e.makespan.bounds.slice(0, 4).map((b) => `${b.by} ${formatDuration(b.ms)}`).join(", ");
  return [
    `Makespan, from the journal's ${runs} (${coverage.join(", ")}):`,
    `  predicted    ${formatDuration(e.makespan.predicted_ms)}  (the run replayed with these durations, the fork limit and the guards)`,
    `  lower bound  ${formatDuration(e.makespan.lower_bound_ms)}  (the largest of: ${terms})`,
  ];
}
