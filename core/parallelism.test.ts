/** `auto` parallelism: deterministic, explained, and bounded by what the plan can use. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { buildGraph } from "./graph.ts";
import type { MachineFacts } from "./machine.ts";
import { LATENCY_FORKS_MIN, MAX_AUTO_FORKS, resolveParallelism } from "./parallelism.ts";
import { loadPlan } from "./plan/load.ts";
import { intervals, maxOverlap, runPlanText, writeFiles } from "./test_helpers.ts";

const ssd = { name: "io", tokens: 12, sequentialIoWeight: 3, storageType: "ssd" as const, reason: "test" };
const machine: MachineFacts = { cores: 4, cpuTokens: 3, cpuReason: "test", io: ssd, ioPools: [ssd], ioPoolOf: () => ssd };
const items = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(",")}]`;

async function autoFor(tasks: string, hosts = "[localhost]", m = machine) {
  const dir = writeFiles({ "plan.yml": `version: 1\nhosts: ${hosts}\nvars: { pool: p1 }\ntasks:\n${tasks}` });
  const plan = await loadPlan(join(dir, "plan.yml"));
  return resolveParallelism(plan, buildGraph(plan), m);
}

describe("resolveParallelism › auto", () => {
  test("latency-bound work gets many in flight, but never more than there are instances", async () => {
    expect((await autoFor(`  - { name: a, module: sleep, with: { duration: 1ms }, items: ${items(500)} }\n`)).effective).toBe(Math.max(LATENCY_FORKS_MIN, 8 * 4));
    expect((await autoFor(`  - { name: a, module: sleep, with: { duration: 1ms }, items: ${items(5)} }\n`)).effective).toBe(5);
  });

  test("cpu-bound work gets one per CPU token; io-bound work the I/O depth, sequential less", async () => {
    const cpu = await autoFor(`  - { name: a, module: sleep, with: { duration: 1ms }, resources: { cpu: 1 }, items: ${items(50)} }\n`);
    expect([cpu.effective, cpu.reason]).toEqual([3, "3: task a (cpu tokens)"]);
    expect((await autoFor(`  - { name: a, module: sleep, with: { duration: 1ms }, resources: { io: 1 }, items: ${items(50)} }\n`)).effective).toBe(12);
    expect((await autoFor(`  - { name: a, module: sleep, with: { duration: 1ms }, resources: { io: 1, io_pattern: sequential }, items: ${items(50)} }\n`)).effective).toBe(4);
  });

  test("exclusive hints: one for global, keys × limit for host locks", async () => {
    expect((await autoFor(`  - { name: a, module: sleep, with: { duration: 1ms }, hint: global_exclusive, items: ${items(9)} }\n`, "[a, b, c]")).effective).toBe(1);
    expect((await autoFor(`  - { name: a, module: sleep, with: { duration: 1ms }, hint: host_exclusive, items: ${items(9)} }\n`, "[a, b, c]")).effective).toBe(3);
    const keyed = await autoFor(`  - { name: a, module: sleep, with: { duration: 1ms }, hint: { kind: host_exclusive, key: "{{ vars.pool }}", limit: 2 }, items: ${items(9)} }\n`, "[a, b, c]");
    expect(keyed.effective).toBe(2);
  });

  test("tasks that can run at once add up: four independent one-instance tasks get 4", async () => {
    const four = await autoFor(["a", "b", "c", "d"].map((n) => `  - { name: ${n}, module: sleep, with: { duration: 1ms }, needs: [] }\n`).join(""));
    expect(four.effective).toBe(4);
    expect(four.reason).toBe("4: 4 tasks can run at once: a 1 (instances), b 1 (instances), c 1 (instances), d 1 (instances)");
    // The same four in a chain run one at a time.
    const chain = await autoFor(["a", "b", "c", "d"].map((n) => `  - { name: ${n}, module: sleep, with: { duration: 1ms } }\n`).join(""));
    expect([chain.effective, chain.reason]).toEqual([1, "1: task a (instances)"]);
  });

  test("a task after a step with no instances still counts; a plan with none says so", async () => {
    const one = await autoFor(`  - { name: a, module: sleep, with: { duration: 1ms } }\n`);
    expect([one.effective, one.reason]).toEqual([1, "1: task a (instances)"]);
    const none = await autoFor(`  - { name: a, module: sleep, with: { duration: 1ms }, items: [] }\n`);
    expect([none.effective, none.reason]).toEqual([1, "1: nothing to run"]);
  });

  test("the busiest task sets the limit, capped at MAX_AUTO_FORKS", async () => {
    const p = await autoFor(`  - { name: small, module: sleep, with: { duration: 1ms }, hint: global_exclusive }\n  - { name: big, module: sleep, with: { duration: 1ms }, items: ${items(1000)} }\n`, "[localhost]", { ...machine, cores: 64 });
    expect(p.effective).toBe(MAX_AUTO_FORKS);
    expect(p.reason).toContain("capped at 256");
  });

  test("the same plan on the same machine always gets the same answer", async () => {
    const tasks = `  - { name: a, module: sleep, with: { duration: 1ms }, resources: { cpu: 2 }, items: ${items(20)} }\n`;
    const answers = await Promise.all([1, 2, 3].map(() => autoFor(tasks)));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
  });

  test("manual parallelism is used as given and reported as manual", async () => {
    const dir = writeFiles({ "plan.yml": "version: 1\nparallelism: 7\ntasks:\n  - { name: a, module: debug, with: { message: x } }\n" });
    const plan = await loadPlan(join(dir, "plan.yml"));
    expect(resolveParallelism(plan, buildGraph(plan), machine)).toMatchObject({ mode: "manual", effective: 7 });
    expect(resolveParallelism(plan, buildGraph(plan), machine, "auto").mode).toBe("auto");
  });
});

test("resolveParallelism › a real run of four independent tasks under auto runs them together", async () => {
  const log = await runPlanText(`version: 1
tasks:
${["a", "b", "c", "d"].map((n) => `  - { name: ${n}, module: sleep, with: { duration: 200ms }, needs: [] }`).join("\n")}
`);
  expect(log.events[0]).toMatchObject({ type: "run_start", parallelism: { mode: "auto", effective: 4 } });
  expect(maxOverlap(intervals(log.events))).toBe(4);
});
