/**
 * Properties of the scheduler over many random plans: whatever the mix of
 * hints, resources, items, dependencies, failures and retries, the event log
 * of a real run must show every guard's capacity respected, the fork limit
 * respected (a `parallel:` group's limit too), every instance ended exactly
 * once, and skips only below failures or over a max_fail_percentage.
 */
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { seededRandom as prng } from "./plan/fuzz/mutate.ts";
import type { TaskEndEvent } from "./telemetry/events.ts";
import { intervals, maxOverlap, maxStartsInWindow, runPlanText } from "./test_helpers.ts";

const SCRIPTED = join(resolve(import.meta.dir, "../fixtures/plugins"), "scripted.ts");

interface Generated {
  yaml: string;
  forks: number;
  capacities: Record<string, number>;
  /** CPU and I/O tokens each task's instances take. */
  amounts: Record<string, { cpu: number; io: number }>;
  /** Each task's own limit on a shared keyed lock ("host:pool"). */
  limits: Record<string, number>;
  /** The strictest rate and burst declared for each shared bucket. */
  buckets: Record<string, { perSecond: number; burst: number }>;
  /** Instances the plan declares, counted from the plan alone (hosts × items per task). */
  planned: number;
}

function randomPlan(seed: number): Generated {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const hosts = ["h1", "h2", "h3"].slice(0, 1 + Math.floor(rnd() * 3));
  const forks = 1 + Math.floor(rnd() * 5);
  const capacities: Record<string, number> = { cpu: 2, io: 3, "global:default": 1, "global:g2": 1 };
  const tasks: string[] = [];
  const amounts: Generated["amounts"] = {};
  const limits: Generated["limits"] = {};
  const buckets: Generated["buckets"] = {};
  let planned = 0;
  const count = 2 + Math.floor(rnd() * 5);
  for (let i = 0; i < count; i++) {
    const hint = pick([
      "fully_parallel",
      "host_exclusive",
      "{ kind: host_exclusive, key: pool, limit: 2 }",
      "{ kind: host_exclusive, key: pool, limit: 1 }",
      "{ kind: host_exclusive, key: pool, limit: 3 }",
      "global_exclusive",
      "{ kind: global_exclusive, group: g2 }",
      "{ kind: rate_limited, per_second: 400, burst: 2 }",
      "{ kind: rate_limited, per_second: 40, burst: 2, key: api }",
      "{ kind: rate_limited, per_second: 100, burst: 1, key: api }",
    ]);
    const limit = /key: pool, limit: (\d)/.exec(hint);
    if (limit) limits[`t${i}`] = Number(limit[1]);
    const rate = /per_second: (\d+), burst: (\d)(?:, key: (\w+))?/.exec(hint);
    if (rate) {
      const name = `bucket:${rate[3] ?? "scripted"}`;
      const seen = buckets[name] ?? { perSecond: Infinity, burst: Infinity };
      buckets[name] = { perSecond: Math.min(seen.perSecond, Number(rate[1])), burst: Math.min(seen.burst, Number(rate[2])) };
    }
    const resources = pick(["{}", "{ cpu: 1 }", "{ io: 2 }", "{ cpu: 1, io: 1 }"]);
    const tokens = (pool: string) => Number(new RegExp(`${pool}: (\\d)`).exec(resources)?.[1] ?? 0);
    amounts[`t${i}`] = { cpu: tokens("cpu"), io: tokens("io") };
    // Items: none, a list (possibly empty, possibly with repeats), or a glob that matches nothing.
    const shape = rnd();
    const list = Array.from({ length: Math.floor(rnd() * 4) }, (_, k) => (rnd() < 0.2 ? 0 : k));
    const items = shape < 0.4 ? `, items: [${list.join(", ")}]` : shape < 0.5 ? ", items_from: { glob: \"nothing-here/*.none\" }" : "";
    planned += hosts.length * (shape < 0.4 ? list.length : shape < 0.5 ? 0 : 1);
    const needs = i > 0 && rnd() < 0.4 ? `, needs: [${pick(tasks.map((t) => t.match(/name: (t\d+)/)![1]!))}]` : i > 0 && rnd() < 0.3 ? ", needs: []" : "";
    const fail = rnd() < 0.15;
    const flaky = !fail && rnd() < 0.2;
    const retries = flaky || rnd() < 0.2 ? `, retries: ${1 + Math.floor(rnd() * 2)}, retry_delay: 2ms` : "";
    const timeout = rnd() < 0.1 ? ", timeout: 5ms" : "";
    const ms = Math.floor(rnd() * 8);
    tasks.push(
      `  - { name: t${i}, module: scripted, hint: ${hint}, resources: ${resources}${items}${needs}${retries}${timeout}, ` +
        `with: { ms: ${timeout ? 50 : ms}, fail: ${fail}, fail_attempts: ${flaky ? 1 : 0} } }`,
    );
  }
  // Two neighbouring tasks as a `parallel:` group with a limit, sometimes: its guard is checked like the others.
  if (count > 2 && rnd() < 0.4) {
    const j = Math.floor(rnd() * (count - 1));
    const limit = 1 + Math.floor(rnd() * 2);
    capacities[`group:g${j}`] = limit;
    const members = tasks.splice(j, 2, "").map((t) => `    ${t}`);
    tasks[j] = `  - name: g${j}\n    limit: ${limit}\n    parallel:\n${members.join("\n")}`;
  }
  // A plan-wide max_fail_percentage, sometimes: its skips must name a task that had failures.
  const maxFail = rnd() < 0.3 ? `max_fail_percentage: ${pick([0, 30, 60])}\n` : "";
  const yaml = `version: 1\nhosts: [${hosts.join(", ")}]\nparallelism: ${forks}\nresources: { cpu_tokens: 2, io_tokens: 3 }\n${maxFail}` +
    `plugins: { scripted: ${SCRIPTED} }\ntasks:\n${tasks.join("\n")}\n`;
  return { yaml, forks, capacities, amounts, limits, buckets, planned };
}

describe("Scheduler › properties over random plans", () => {
  for (let seed = 1; seed <= 25; seed++) {
    test(`seed ${seed}: guards, fork limit, one end per instance, skips only below failures`, async () => {
      const { yaml, forks, capacities, amounts, limits, buckets, planned } = randomPlan(seed);
      const log = await runPlanText(yaml, { failFast: seed % 5 === 0 });
      const all = intervals(log.events);
      // The fork limit.
      expect(maxOverlap(all)).toBeLessThanOrEqual(forks);
      // Every guard's capacity, from the guards each start says it holds.
      const byGuard = new Map<string, typeof all>();
      for (const i of all) for (const g of i.start_event.guards) byGuard.set(g, [...(byGuard.get(g) ?? []), i]);
      for (const [guard, list] of byGuard) {
        const capacity = guard.startsWith("host:") && guard !== "host:pool" ? 1 : capacities[guard];
        if (guard.startsWith("bucket:") || guard === "host:pool") continue; // checked below
        if (guard === "cpu" || guard === "io") continue; // amounts differ per task: checked next
        expect({ guard, overlap: maxOverlap(list) <= capacity! }).toEqual({ guard, overlap: true });
      }
      // The CPU and I/O pools, weighted by what each task takes.
      for (const pool of ["cpu", "io"] as const) {
        const points: [number, number][] = [];
        for (const i of all) {
          const amount = amounts[i.start_event.task]![pool];
          if (amount > 0) points.push([i.start, amount], [i.end, -amount]);
        }
        points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        let held = 0;
        let most = 0;
        for (const [, d] of points) most = Math.max(most, (held += d));
        expect({ pool, most: most <= capacities[pool]! }).toEqual({ pool, most: true });
      }
      // The shared keyed lock: whenever holders overlap, there are no more of them than any holder's own limit.
      const pool = all.filter((i) => i.start_event.guards.includes("host:pool")).sort((a, b) => a.start - b.start);
      for (const i of pool) {
        const together = pool.filter((j) => j.start <= i.start && j.end > i.start);
        const strictest = Math.min(...together.map((j) => limits[j.start_event.task]!));
        expect({ at: i.id, holders: together.length <= strictest }).toEqual({ at: i.id, holders: true });
      }
      // Each bucket, at its strictest declaration: in any window of w ms at most burst + rate × w starts.
      for (const [name, { perSecond, burst }] of Object.entries(buckets)) {
        const starts = all.filter((i) => i.start_event.guards.includes(name)).map((i) => i.start);
        for (const w of [1, 50, 100]) {
          // t_ms is rounded to 0.01 ms: allow that much slack in the window.
          expect({ name, w, within: maxStartsInWindow(starts, w - 0.02) <= burst + Math.floor(perSecond * w / 1000) }).toEqual({ name, w, within: true });
        }
      }
      // One task_end per planned instance (counted from the plan, not the scheduler), and the summary agrees.
      const ids = log.ends.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(planned);
      expect(log.end.summary.total).toBe(planned);
      expect((log.events[0] as { instances: number }).instances).toBe(planned);
      // A skip names an instance that did not succeed, or a task over its max_fail_percentage that had failures.
      const status = new Map(log.ends.map((e: TaskEndEvent) => [e.id, e.status]));
      const failedOf = (task: string) => log.ends.filter((e) => e.task === task && (e.status === "failed" || e.status === "timed_out")).length;
      for (const e of log.ends.filter((e) => e.status === "skipped")) {
        const cause = /^skipped: (.+) did not succeed$/.exec(e.error ?? "")?.[1];
        const overLimit = /^skipped: task (\S+) is over its max_fail_percentage/.exec(e.error ?? "")?.[1];
        expect({ id: e.id, error: e.error, explained: cause ? status.get(cause) !== "ok" : overLimit === e.task && failedOf(e.task) > 0 })
          .toEqual({ id: e.id, error: e.error, explained: true });
      }
      // Without fail-fast nothing is cancelled; the exit code matches the outcome; run_end closes the log.
      if (seed % 5 !== 0) expect(log.ends.some((e) => e.status === "cancelled")).toBe(false);
      expect(log.exitCode).toBe(log.ends.every((e) => e.status === "ok") ? 0 : 1);
      expect(log.events.at(-1)!.type).toBe("run_end");
    });
  }
});
