/**
 * Journal overhead: the same 100,000-instance run with the journal (the
 * default) and with --no-journal, through the CLI, wall time of the whole
 * process. Runs alternate (off, on, off, on, …) so that a change in the
 * machine's load falls on both; the median of each is compared.
 *
 * Two workloads:
 * - noop: a plugin that does nothing. Nothing but fanout's own cost, so
 *   the journal's cost per instance (hashing the key, storing the row) is
 *   at its most visible: the worst case, reported as µs per instance.
 * - true: the shell module running `true` — one real process per
 *   instance, the smallest real work fanout is for. The goal is set here.
 *
 * Goal: with the journal, the `true` run takes < 1.10× the time without.
 *
 * FANOUT_BENCH_WORKLOADS=noop (or =true) runs one of them: the `true` run
 * at 100,000 takes an hour and more on a loaded 2-core machine, so it may be
 * run at a smaller FANOUT_BENCH_SCALE than the no-op one.
 */
import { join } from "node:path";
import { fanoutArgv, r, report, scaled, scratchDir, timeCommand, writeFile, writeNoopPlan } from "./lib.ts";

const GOAL_RATIO = 1.1;
const ROUNDS = Number(process.env.FANOUT_BENCH_ROUNDS ?? 3);
const WORKLOADS = (process.env.FANOUT_BENCH_WORKLOADS ?? "noop,true").split(",");
for (const w of WORKLOADS) if (w !== "noop" && w !== "true") throw new RangeError(`FANOUT_BENCH_WORKLOADS: expected noop and/or true, got ${JSON.stringify(w)}`);

function writePlans(dir: string, total: number) {
  const noop = writeNoopPlan(dir, "journal-noop", total, 64);
  const proc = writeFile(dir, "true.yml", `version: 1
name: journal-true
parallelism: 8
tasks:
  - { name: "true", module: shell, items_from: { file: items.txt }, with: { argv: ["true"] } }
`);
  return { noop, proc };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Alternating runs without and with the journal; medians in seconds. */
function compare(plan: string, dir: string, rounds: number) {
  const { argv } = fanoutArgv();
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < rounds; i++) {
    off.push(timeCommand([...argv, "run", plan, "-q", "--no-journal"], { cwd: dir }));
    // A fresh journal each round: the first run into an empty file, as a new plan's would be.
    on.push(timeCommand([...argv, "run", plan, "-q", "--journal", join(dir, `j${i}-${plan.split("/").at(-1)}.db`)], { cwd: dir }));
  }
  return { off_s: r(median(off)), on_s: r(median(on)), ratio: r(median(on) / median(off)), rounds };
}

const dir = scratchDir("journal");
const total = scaled(100_000, 1000);
const { noop, proc } = writePlans(dir, total);
const perInstance = (c: { on_s: number; off_s: number }) => r(((c.on_s - c.off_s) * 1e6) / total, 2);
const n = WORKLOADS.includes("noop") ? compare(noop, dir, ROUNDS) : undefined;
const t = WORKLOADS.includes("true") ? compare(proc, dir, Math.max(1, Math.min(ROUNDS, 2))) : undefined;
report("journal_overhead", {
  instances: total,
  runner: fanoutArgv().runner,
  ...(n && { noop: { ...n, journal_us_per_instance: perInstance(n) } }),
  ...(t && { true: { ...t, journal_us_per_instance: perInstance(t) } }),
  goal: `true: run time with the journal < ${GOAL_RATIO}x without`,
  goal_met: t ? t.ratio < GOAL_RATIO : null,
});
