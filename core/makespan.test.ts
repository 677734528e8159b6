/** makespan: critical path, lower bound and the simulated run, on real plans' graphs and guards with given durations. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { prepare } from "./commands/run.ts";
import type { Instance } from "./graph.ts";
import { longestPath, lowerBound, simulate } from "./makespan.ts";
import { loadPlan } from "./plan/load.ts";
import { writeFiles } from "./test_helpers.ts";

async function setUp(tasks: string, durations: Record<string, number>, head = "") {
  const dir = writeFiles({ "plan.yml": `version: 1\n${head}tasks:\n${tasks}` });
  const plan = await loadPlan(join(dir, "plan.yml"));
  const { graph, requests, parallelism } = prepare(plan, { parallelism: plan.parallelism });
  const durationOf = (inst: Instance) => durations[inst.task.name] ?? 0;
  const requestsOf = (inst: Instance) => requests.of(inst, plan.vars);
  const instances = graph.groups.flatMap((g) => g.instances);
  return { graph, forks: parallelism.effective, durationOf, requestsOf, instances };
}

const sleep = (name: string, extra = "") => `  - { name: ${name}, module: sleep, with: { duration: 1ms }${extra} }\n`;

describe("makespan", () => {
  test("independent instances share the fork limit: 4 × 100ms at -p 2 take 200ms, bound by the forks", async () => {
    const s = await setUp(sleep("a", ", items: [1, 2, 3, 4]"), { a: 100 }, "parallelism: 2\n");
    expect(simulate(s.graph, s.forks, s.durationOf, s.requestsOf)).toBe(200);
    expect(lowerBound(s.instances, 100, s.forks, s.durationOf, s.requestsOf)[0]).toEqual({ ms: 200, by: "forks" });
  });

  test("a chain is its critical path, in steps and in time; needs may point forward in the file", async () => {
    const s = await setUp(sleep("late", ", needs: [early]") + sleep("early", ", needs: []") + sleep("alone", ", needs: []"), { early: 100, late: 50, alone: 120 });
    const steps = longestPath(s.graph, () => 1);
    expect([steps.total, steps.groups.map((g) => g.task.name)]).toEqual([2, ["early", "late"]]);
    const timed = longestPath(s.graph, (g) => s.durationOf(g.instance(0)));
    expect([timed.total, timed.groups.map((g) => g.task.name)]).toEqual([150, ["early", "late"]]);
    expect(simulate(s.graph, 8, s.durationOf, s.requestsOf)).toBe(150);
  });

  test("a host lock serialises its instances whatever the fork limit; the bound names the lock", async () => {
    const s = await setUp(sleep("locked", ", items: [1, 2, 3], hint: host_exclusive"), { locked: 100 }, "parallelism: 8\n");
    expect(simulate(s.graph, s.forks, s.durationOf, s.requestsOf)).toBe(300);
    expect(lowerBound(s.instances, 100, s.forks, s.durationOf, s.requestsOf)[0]).toEqual({ ms: 300, by: "host:localhost" });
  });

  test("a token bucket spaces starts on the simulated clock: burst 1 at 10/s starts at 0, 100 and 200 ms", async () => {
    const s = await setUp(sleep("rated", ", items: [1, 2, 3], hint: { kind: rate_limited, per_second: 10, burst: 1 }"), { rated: 1 }, "parallelism: 8\n");
    expect(simulate(s.graph, s.forks, s.durationOf, s.requestsOf)).toBeCloseTo(201, 6);
  });

  test("the fork slot is taken by what fits: an instance behind a lock does not hold back one that is free", async () => {
    const tasks = sleep("locked", ", items: [1, 2], hint: { kind: host_exclusive, key: one }") + sleep("free", ", needs: []");
    const s = await setUp(tasks, { locked: 100, free: 100 }, "parallelism: 2\n");
    expect(simulate(s.graph, s.forks, s.durationOf, s.requestsOf)).toBe(200);
  });
});
