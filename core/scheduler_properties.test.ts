/**
 * Properties of the scheduler over many random plans: whatever the mix of
 * hints, resources, items, dependencies, failures and retries, the event log
 * of a real run must show every guard's capacity respected, the fork limit
 * respected, every instance ended exactly once, and skips only below failures.
 */
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import type { TaskEndEvent } from "./telemetry/events.ts";
import { intervals, maxOverlap, runPlanText } from "./test_helpers.ts";

const SCRIPTED = join(resolve(import.meta.dir, "../fixtures/plugins"), "scripted.ts");

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Generated {
  yaml: string;
  forks: number;
  capacities: Record<string, number>;
  /** CPU and I/O tokens each task's instances take. */
  amounts: Record<string, { cpu: number; io: number }>;
}

function randomPlan(seed: number): Generated {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const hosts = ["h1", "h2", "h3"].slice(0, 1 + Math.floor(rnd() * 3));
  const forks = 1 + Math.floor(rnd() * 5);
  const capacities: Record<string, number> = { cpu: 2, io: 3, "global:default": 1, "global:g2": 1 };
  const tasks: string[] = [];
  const amounts: Generated["amounts"] = {};
  const count = 2 + Math.floor(rnd() * 5);
  for (let i = 0; i < count; i++) {
    const hint = pick([
      "fully_parallel",
      "host_exclusive",
      "{ kind: host_exclusive, key: pool, limit: 2 }",
      "global_exclusive",
      "{ kind: global_exclusive, group: g2 }",
      "{ kind: rate_limited, per_second: 400, burst: 2 }",
    ]);
    if (hint.includes("key: pool")) capacities["host:pool"] = 2;
    const resources = pick(["{}", "{ cpu: 1 }", "{ io: 2 }", "{ cpu: 1, io: 1 }"]);
    const tokens = (pool: string) => Number(new RegExp(`${pool}: (\\d)`).exec(resources)?.[1] ?? 0);
    amounts[`t${i}`] = { cpu: tokens("cpu"), io: tokens("io") };
    const items = rnd() < 0.5 ? `, items: [${Array.from({ length: 1 + Math.floor(rnd() * 4) }, (_, k) => k).join(", ")}]` : "";
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
  const yaml = `version: 1\nhosts: [${hosts.join(", ")}]\nparallelism: ${forks}\nresources: { cpu_tokens: 2, io_tokens: 3 }\n` +
    `plugins: { scripted: ${SCRIPTED} }\ntasks:\n${tasks.join("\n")}\n`;
  return { yaml, forks, capacities, amounts };
}

describe("Scheduler › properties over random plans", () => {
  for (let seed = 1; seed <= 25; seed++) {
    test(`seed ${seed}: guards, fork limit, one end per instance, skips only below failures`, async () => {
      const { yaml, forks, capacities, amounts } = randomPlan(seed);
      const log = await runPlanText(yaml, { failFast: seed % 5 === 0 });
      const all = intervals(log.events);
      // The fork limit.
      expect(maxOverlap(all)).toBeLessThanOrEqual(forks);
      // Every guard's capacity, from the guards each start says it holds.
      const byGuard = new Map<string, typeof all>();
      for (const i of all) for (const g of i.start_event.guards) byGuard.set(g, [...(byGuard.get(g) ?? []), i]);
      for (const [guard, list] of byGuard) {
        const capacity = guard.startsWith("host:") && guard !== "host:pool" ? 1 : capacities[guard];
        if (guard.startsWith("bucket:")) continue; // buckets bound rates, checked elsewhere
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
      // One task_end per instance, and the summary agrees.
      const ids = log.ends.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(log.end.summary.total).toBe(ids.length);
      expect((log.events[0] as { instances: number }).instances).toBe(ids.length);
      // A skip names an instance that did not succeed.
      const status = new Map(log.ends.map((e: TaskEndEvent) => [e.id, e.status]));
      for (const e of log.ends.filter((e) => e.status === "skipped")) {
        const cause = /^skipped: (.+) did not succeed$/.exec(e.error ?? "")?.[1];
        expect(cause && status.get(cause) !== "ok").toBe(true);
      }
      // Without fail-fast nothing is cancelled; the exit code matches the outcome.
      if (seed % 5 !== 0) expect(log.ends.some((e) => e.status === "cancelled")).toBe(false);
      expect(log.exitCode).toBe(log.ends.every((e) => e.status === "ok") ? 0 : 1);
    });
  }
});
