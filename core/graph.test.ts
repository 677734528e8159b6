import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { buildGraph } from "./graph.ts";
import { loadPlan } from "./plan/load.ts";
import { writeFiles } from "./test_helpers.ts";

async function graphOf(yaml: string) {
  const dir = writeFiles({ "plan.yml": yaml });
  return buildGraph(await loadPlan(join(dir, "plan.yml")));
}

const label = (g: { task: { name: string }; host: string }) => `${g.task.name}[${g.host}]`;

describe("buildGraph", () => {
  test("instances in plan order with readable, unique ids", async () => {
    const graph = await graphOf(`version: 1
hosts: [h1, h2]
tasks:
  - { name: a, module: debug, with: { message: x }, items: [x, x, { name: obj }] }
`);
    expect(graph.groups.flatMap((g) => g.instances.map((i) => i.id))).toEqual([
      "a[h1][x]", "a[h1][x]#2", "a[h1][obj]", "a[h2][x]", "a[h2][x]#2", "a[h2][obj]",
    ]);
    expect(graph.instanceCount).toBe(6);
  });

  test("instances are made on demand, one at a time, with the same sequence numbers and ids as the whole list", async () => {
    const dir = writeFiles({ "plan.yml": `version: 1
hosts: [h1, h2]
tasks:
  - { name: a, module: debug, with: { message: x } }
  - { name: b, module: debug, with: { message: x }, items_from: { file: list.txt } }
`, "list.txt": "p\nq\np\n" });
    const graph = buildGraph(await loadPlan(join(dir, "plan.yml")));
    expect(graph.groups.map((g) => [label(g), g.first, g.size])).toEqual([["a[h1]", 0, 1], ["a[h2]", 1, 1], ["b[h1]", 2, 3], ["b[h2]", 5, 3]]);
    const b2 = graph.groups[3]!;
    expect([b2.instance(2).seq, b2.instance(2).id, b2.instance(2).item]).toEqual([7, "b[h2][p]#2", "p"]);
    expect(b2.instances.map((i) => [i.seq, i.id])).toEqual([[5, "b[h2][p]"], [6, "b[h2][q]"], [7, "b[h2][p]#2"]]);
    expect(graph.groups[0]!.instance(0).item).toBeNull();
  });

  test("default needs: the previous task on the same host; explicit needs: same host if there, else all", async () => {
    const graph = await graphOf(`version: 1
hosts: [h1, h2]
tasks:
  - { name: a, module: debug, with: { message: x } }
  - { name: b, module: debug, with: { message: x }, hosts: [h2] }
  - { name: c, module: debug, with: { message: x } }
  - { name: d, module: debug, with: { message: x }, hosts: [h1], needs: [b] }
  - { name: e, module: debug, with: { message: x }, needs: [] }
`);
    const deps = Object.fromEntries(graph.groups.map((g) => [label(g), g.prereqs.map(label)]));
    expect(deps).toEqual({
      "a[h1]": [], "a[h2]": [],
      "b[h2]": ["a[h2]"],
      "c[h1]": ["a[h1]"], "c[h2]": ["b[h2]"],
      "d[h1]": ["b[h2]"],
      "e[h1]": [], "e[h2]": [],
    });
  });

  test("a big fan-out after a big fan-out is one edge per host, not items²", async () => {
    const items = `[${Array.from({ length: 2000 }, (_, i) => i).join(",")}]`;
    const graph = await graphOf(`version: 1
tasks:
  - { name: a, module: debug, with: { message: x }, items: ${items} }
  - { name: b, module: debug, with: { message: x }, items: ${items} }
`);
    expect(graph.instanceCount).toBe(4000);
    expect(graph.groups.map((g) => g.prereqs.length)).toEqual([0, 1]);
  });
});
