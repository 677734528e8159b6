/** Loading parallel: groups, race: and max_fail_percentage: what they become, and each bad shape as file:line:col. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { buildGraph } from "../graph.ts";
import { planErrors, writeFiles } from "../test_helpers.ts";
import { loadPlan } from "./load.ts";

const load = (yaml: string) => loadPlan(join(writeFiles({ "plan.yml": yaml }), "plan.yml"));
const prereqs = (yaml: string) =>
  load(yaml).then((plan) => Object.fromEntries(buildGraph(plan).groups.map((g) => [g.task.name, g.prereqs.map((p) => p.task.name).sort()])));

describe("parallel groups › loading", () => {
  test("a group is one step: its tasks wait for the step before, what follows waits for all of them, nested ones too", async () => {
    expect(await prereqs(`version: 1
tasks:
  - { name: first, module: debug, with: { message: x } }
  - name: g
    limit: 2
    parallel:
      - { name: a, module: debug, with: { message: x } }
      - name: inner
        parallel:
          - { name: b, module: debug, with: { message: x } }
          - { name: c, module: debug, with: { message: x } }
  - { name: last, module: debug, with: { message: x } }
`)).toEqual({ first: [], a: ["first"], b: ["first"], c: ["first"], last: ["a", "b", "c"] });
  });

  test("limits of every enclosing group, needs naming a group, and a group's needs passed to its tasks", async () => {
    const plan = await load(`version: 1
tasks:
  - { name: x, module: debug, with: { message: x } }
  - { name: y, module: debug, with: { message: x } }
  - name: g
    limit: 3
    needs: [x]
    parallel:
      - { name: a, module: debug, with: { message: x } }
      - name: inner
        limit: 1
        parallel:
          - { name: b, module: debug, with: { message: x }, needs: [y] }
  - { name: z, module: debug, with: { message: x }, needs: [g] }
`);
    const byName = Object.fromEntries(plan.tasks.map((t) => [t.name, t]));
    expect(byName.a!.groupLimits).toEqual([{ name: "g", limit: 3 }]);
    expect(byName.b!.groupLimits).toEqual([{ name: "g", limit: 3 }, { name: "inner", limit: 1 }]);
    expect(byName.a!.needs).toEqual(["x"]);
    expect(byName.b!.needs).toEqual(["y"]);
    expect(byName.z!.needs).toEqual(["a", "b"]);
  });

  test("bad groups, each at its place", async () => {
    expect(await planErrors(`version: 1
tasks:
  - name: g
    limit: 0
    parallel:
      - { name: a, module: debug, with: { message: x }, needs: [g] }
      - { name: g, module: debug, with: { message: x } }
  - name: h
    parallel: []
    needs: [nope]
`)).toEqual([
      `plan.yml:4:12: tasks[0].limit: expected limit >= 1, got 0`,
      `plan.yml:6:65: tasks[0].parallel[0].needs[0]: task "a" cannot need group "g", which holds it`,
      `plan.yml:3:11: tasks[0].name: group name "g" is also a task's name; names of tasks and groups are one namespace`,
      `plan.yml:9:15: tasks[1].parallel: expected at least one task in parallel, got 0`,
      `plan.yml:10:13: tasks[1].needs[0]: unknown task or group "nope"`,
    ].sort(byLine));
  });
});

describe("race › loading", () => {
  test("alternatives are tasks of their own module, input and hint; the race's own hint is its task's", async () => {
    const plan = await load(`version: 1
tasks:
  - name: r
    hint: global_exclusive
    race:
      - { module: debug, with: { message: one } }
      - { module: sleep, with: { duration: 1ms }, hint: host_exclusive }
`);
    const [r] = plan.tasks;
    expect(r!.hint).toEqual({ kind: "global_exclusive", group: "default" });
    expect(r!.race!.map((a) => [a.module.name, a.hint.kind])).toEqual([["debug", "fully_parallel"], ["sleep", "host_exclusive"]]);
  });

  test("bad races, each at its place", async () => {
    expect(await planErrors(`version: 1
tasks:
  - name: one
    race:
      - { module: debug, with: { message: x } }
  - name: both
    module: debug
    race: [{ module: debug, with: { message: x } }, { module: debug, with: { message: y } }]
  - name: neither
    hosts: [localhost]
  - name: beside
    with: { message: x }
    race: [{ module: debug, with: { message: x } }, { module: nope }]
`)).toEqual([
      `plan.yml:5:7: tasks[0].race: expected race as a list of at least 2 alternatives, got 1`,
      `plan.yml:8:5: tasks[1].race: give either module or race, not both`,
      `plan.yml:9:5: tasks[2]: missing required key "module" (or race: a list of alternatives, each with a module)`,
      `plan.yml:12:5: tasks[3].with: with belongs inside each race alternative (race[0].with, …), not beside race`,
      expect.stringMatching(/^plan\.yml:13:63: tasks\[3\]\.race\[1\]\.module: unknown module "nope"/),
    ]);
  });
});

describe("max_fail_percentage › loading", () => {
  test("the plan's is the default, a task's overrides it", async () => {
    const plan = await load(`version: 1
max_fail_percentage: 10
tasks:
  - { name: a, module: debug, with: { message: x } }
  - { name: b, module: debug, with: { message: x }, max_fail_percentage: 0 }
`);
    expect(plan.tasks.map((t) => t.maxFailPercentage)).toEqual([10, 0]);
  });

  test("outside 0–100 is an error at the value", async () => {
    expect(await planErrors(`version: 1
max_fail_percentage: 101
tasks:
  - { name: a, module: debug, with: { message: x }, max_fail_percentage: -1 }
`)).toEqual([
      `plan.yml:2:22: max_fail_percentage: expected max_fail_percentage from 0 to 100, got 101`,
      `plan.yml:4:74: tasks[0].max_fail_percentage: expected max_fail_percentage from 0 to 100, got -1`,
    ]);
  });
});

function byLine(a: string, b: string): number {
  const pos = (s: string) => s.split(":").slice(1, 3).map(Number) as [number, number];
  const [la, ca] = pos(a);
  const [lb, cb] = pos(b);
  return la - lb || ca - cb;
}
