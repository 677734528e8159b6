/**
 * `npm run bench [-- name… --flag…]`: runs every benchmark (or the named
 * ones; a unique prefix will do, `whole` for `whole_process`) in sequence,
 * each in its own process with the flags (`--quick`), and passes their JSON
 * lines through.
 * FANOUT_BENCH_SCALE=0.1 shrinks every size for a quick run. A benchmark
 * that crashes is reported as a JSON line with its error; the others still
 * run. Benchmarks never fail on their goals (they report goal_met), so the
 * exit code is 1 only when one could not run.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const DIR = import.meta.dir;

/** In order of running time, quickest first. Files other developers add are picked up when present. */
const BENCHMARKS = [
  "rate_precision",
  "makespan",
  "scheduler_overhead",
  "journal_overhead",
  "shared_guards",
  "distribute_overhead",
  "process_dispatch",
  "io_depth_sweep",
  "mixed_sizes",
  "startup",
  "whole_process",
];

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith("-"));
const names = args.filter((a) => !a.startsWith("-")).map((a) => a.replace(/\.ts$/, ""));
/** The benchmark a name means: itself, or the one benchmark it begins. */
const resolveName = (name: string) => (BENCHMARKS.includes(name) ? [name] : BENCHMARKS.filter((b) => b.startsWith(name)));
const unknown = names.filter((w) => resolveName(w).length !== 1);
if (unknown.length > 0) {
  console.error(`bench: unknown or ambiguous benchmark ${unknown.map((u) => JSON.stringify(u)).join(", ")}; known: ${BENCHMARKS.join(", ")}`);
  process.exit(2);
}
const wanted = names.map((w) => resolveName(w)[0]!);

let failures = 0;
for (const name of wanted.length > 0 ? wanted : BENCHMARKS) {
  const file = join(DIR, `${name}.ts`);
  if (!existsSync(file)) {
    if (wanted.includes(name)) {
      console.log(JSON.stringify({ bench: name, error: `${file} does not exist` }));
      failures++;
    }
    continue;
  }
  const res = spawnSync(process.execPath, ["--no-install", file, ...flags], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 64 << 20 });
  const lines = res.stdout.split("\n").filter((l) => l.trim() !== "");
  if (res.status === 0 && lines.length > 0) {
    for (const line of lines) console.log(line);
  } else {
    failures++;
    console.log(JSON.stringify({ bench: name, error: `exit ${res.status ?? res.signal}`, output: lines.slice(-3) }));
  }
}
process.exit(failures > 0 ? 1 : 0);
