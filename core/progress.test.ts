import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { buildGraph, type Graph } from "./graph.ts";
import { loadPlan } from "./plan/load.ts";
import { GroupProgress, type Released } from "./progress.ts";
import { writeFiles } from "./test_helpers.ts";

async function graphOf(tasks: string): Promise<Graph> {
  const dir = writeFiles({ "plan.yml": `version: 1\nhosts: [h1, h2]\ntasks:\n${tasks}` });
  return buildGraph(await loadPlan(join(dir, "plan.yml")));
}

const names = (r: Released) => ({
  ready: r.ready.map((g) => `${g.task.name}[${g.host}]`),
  skipped: r.skipped.map((s) => `${s.group.task.name}[${s.group.host}] by ${s.blockedBy}`),
});

describe("GroupProgress", () => {
  test("a group is released when every instance of every prerequisite has ended", async () => {
    const graph = await graphOf(`  - { name: a, module: debug, with: { message: x }, items: [1, 2] }\n  - { name: b, module: debug, with: { message: x } }\n`);
    const p = new GroupProgress(graph);
    expect(names(p.start())).toEqual({ ready: ["a[h1]", "a[h2]"], skipped: [] });
    const [a1, a2] = graph.groups[0]!.instances;
    expect(names(p.ended(a1!, true))).toEqual({ ready: [], skipped: [] });
    expect(names(p.ended(a2!, true))).toEqual({ ready: ["b[h1]"], skipped: [] });
  });

  test("a failure skips the chain below it on that host only, naming the cause", async () => {
    const graph = await graphOf(`  - { name: a, module: debug, with: { message: x } }\n  - { name: b, module: debug, with: { message: x } }\n  - { name: c, module: debug, with: { message: x } }\n`);
    const p = new GroupProgress(graph);
    p.start();
    const aH1 = graph.groups.find((g) => g.task.name === "a" && g.host === "h1")!.instances[0]!;
    expect(names(p.ended(aH1, false))).toEqual({ ready: [], skipped: ["b[h1] by a[h1]", "c[h1] by a[h1]"] });
  });

  test("a group waiting on two prerequisites is skipped if either failed", async () => {
    const graph = await graphOf(`  - { name: a, module: debug, with: { message: x }, hosts: [h1] }\n  - { name: b, module: debug, with: { message: x }, hosts: [h1], needs: [] }\n  - { name: c, module: debug, with: { message: x }, hosts: [h1], needs: [a, b] }\n`);
    const p = new GroupProgress(graph);
    p.start();
    expect(names(p.ended(graph.groups[1]!.instances[0]!, false))).toEqual({ ready: [], skipped: [] });
    expect(names(p.ended(graph.groups[0]!.instances[0]!, true))).toEqual({ ready: [], skipped: ["c[h1] by b[h1]"] });
  });
});
