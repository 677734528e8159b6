/**
 * Rate precision: 100 starts of a rate_limited module at 20/s, burst 1,
 * through the CLI, read back from the task_start events.
 *
 * - achieved rate: (starts − 1) / (last start − first start).
 * - worst 1 s window: most starts in any window [t, t + 1000 ms), against
 *   the token bucket's guarantee burst + rate × 1 s = 21.
 * - jitter: |gap − 50 ms| between consecutive starts, p50 and p99.
 *
 * Goal: no window over the limit, achieved >= 98% of the target, p99
 * jitter < 5 ms.
 */
import { percentiles } from "../core/stats.ts";
import { r, report, runFanout, scaled, scratchDir, writeFile } from "./lib.ts";

const RATE = 20;
const BURST = 1;

function main(): void {
  const n = scaled(100, 10);
  const dir = scratchDir("rate");
  const plan = writeFile(dir, "rate.yml", `version: 1
name: rate
tasks:
  - name: call
    module: sleep
    items: [${Array.from({ length: n }, (_, i) => i).join(", ")}]
    hint: { kind: rate_limited, per_second: ${RATE}, burst: ${BURST} }
    with: { duration: 1ms }
`);
  const run = runFanout(plan, ["-p", "8"]);
  const starts = run.starts.map((e) => e.t_ms).sort((a, b) => a - b);
  if (starts.length !== n) throw new Error(`expected ${n} task_start events, got ${starts.length}`);

  const allowed = BURST + RATE * 1;
  let worstWindow = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (j < starts.length && starts[j]! < starts[i]! + 1000) j++;
    worstWindow = Math.max(worstWindow, j - i);
  }
  const achieved = (starts.length - 1) / ((starts.at(-1)! - starts[0]!) / 1000);
  const jitter: number[] = [];
  for (let i = 1; i < starts.length; i++) jitter.push(Math.abs(starts[i]! - starts[i - 1]! - 1000 / RATE));
  const { p50, p99 } = percentiles(jitter);

  report("rate_precision", {
    starts: n,
    target_per_s: RATE,
    burst: BURST,
    achieved_per_s: r(achieved),
    ratio_to_target: r(achieved / RATE),
    worst_window_1s: worstWindow,
    allowed_window_1s: allowed,
    jitter_ms: { p50: r(p50), p99: r(p99), max: r(Math.max(...jitter)) },
    goal: `worst 1 s window <= ${allowed}, achieved >= 98% of ${RATE}/s, p99 jitter < 5 ms`,
    goal_met: worstWindow <= allowed && achieved >= 0.98 * RATE && p99 < 5,
  });
}

main();
