/** `fanout explain`: its bytes, its JSON, what it reads from the journal of real runs, and that it runs and writes nothing. */
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runProcess, writeFiles } from "../test_helpers.ts";

const CLI = resolve(import.meta.dir, "../../cli.ts");

const PLUGIN = `export const parallelizationHint = { kind: "host_exclusive", key: "db" };
export const resources = { mem: "1MiB" };
export default async function run() { return { changed: false }; }
`;

const PLAN = `version: 1
name: shop
hosts: [web1, web2]
resources: { mem_budget: 64MiB }
plugins: { migrate: ./migrate.ts }
tasks:
  - name: fetch
    module: shell
    with: { argv: [echo, fetch] }
  - name: schema
    module: migrate
    hosts: [web1]
    resources: { mem: 2MiB }
  - name: seed
    module: migrate
    hosts: [web1]
    hint: { kind: host_exclusive, key: db, limit: 2 }
  - name: deploy
    module: sleep
    items: [a, b]
    needs: [fetch]
    with: { duration: 20ms }
`;

async function fanout(dir: string, ...args: string[]) {
  return await runProcess([process.execPath, "--no-install", CLI, ...args], { cwd: dir });
}

const project = () => writeFiles({ "plan.yml": PLAN, "migrate.ts": PLUGIN });

describe("fanout explain", () => {
  test("prints tasks with where each hint and resource came from, guards, critical path, conflicts; runs and records nothing", async () => {
    const dir = project();
    const r = await fanout(dir, "explain", "plan.yml", "-p", "3");
    expect([r.code, r.stderr]).toEqual([0, ""]);
    // The "from:" line names this machine's cores; the rest is the plan's.
    const lines = r.stdout.split("\n").filter((l) => !l.startsWith("  from: "));
    expect(lines.join("\n")).toBe(`plan shop (plan.yml): 8 instances of 4 tasks on 2 hosts

Tasks
  fetch   shell  2 instances (web1, web2)
          hint fully_parallel (module)  resources none
  schema  migrate  1 instance (web1)  after fetch
          hint host_exclusive key db, limit 1 (module)  resources mem 2097152 (plan)
  seed    migrate  1 instance (web1)  after schema
          hint host_exclusive key db, limit 2 (plan)  resources mem 1048576 (module)
  deploy  sleep  4 instances (web1, web2 × 2 items)  after fetch
          hint fully_parallel (module)  resources none

Guards
  forks    3         the fork limit: every instance takes one slot
  host:db  2         2 instances of schema, seed
  mem      67108864  2 instances of schema, seed

Parallelism: 3 (manual): set by the plan or --parallelism

Critical path: 3 steps: fetch[web1] → schema[web1] → seed[web1]

Conflicts:
  host:db is declared with limit 1 (task schema) and limit 2 (task seed): each instance runs only while the holders, itself included, are within its own limit and every holder's

Makespan: no journal with earlier runs of this plan (run it once with the journal on, the default)
`);
    expect(existsSync(join(dir, ".fanout"))).toBe(false);
  }, 60_000);

  test("--json: one object; with the journal of a real run, the predicted makespan beside its lower bound", async () => {
    const dir = project();
    const before = await fanout(dir, "explain", "plan.yml", "--json");
    const cold = JSON.parse(before.stdout);
    expect(cold).toMatchObject({ type: "explain", plan: "shop", instances: 8, makespan: null, critical_path_time: null, durations: { journal: null } });
    expect(cold.tasks[1]).toMatchObject({ name: "schema", hint: { kind: "host_exclusive", key: "db", limit: 1, from: "module" }, resources: { mem: { value: 2097152, from: "plan" } } });
    expect(cold.parallelism).toMatchObject({ mode: "auto", eligible_instances: 8 });
    expect(cold.parallelism.reason).toStartWith(`${cold.parallelism.effective}: `);

    const run = await fanout(dir, "run", "plan.yml", "-q");
    expect(run.code).toBe(0);
    const warm = JSON.parse((await fanout(dir, "explain", "plan.yml", "--json")).stdout);
    expect(warm.durations).toMatchObject({ journal: join(dir, ".fanout/journal.db"), runs: [1], recorded: 8, estimated: 0, unknown: 0 });
    const { predicted_ms, lower_bound_ms, bounds } = warm.makespan;
    expect(lower_bound_ms).toBe(Math.max(...bounds.map((b: { ms: number }) => b.ms)));
    expect(bounds.map((b: { by: string }) => b.by)).toContain("critical path");
    expect(bounds.find((b: { by: string }) => b.by === "critical path").ms).toBe(warm.critical_path_time.ms);
    expect(predicted_ms).toBeGreaterThanOrEqual(lower_bound_ms);
    // deploy sleeps 20ms after fetch: the timed critical path is at least that long.
    expect(warm.critical_path_time.ms).toBeGreaterThanOrEqual(20);

    const human = await fanout(dir, "explain", "plan.yml");
    expect(human.stdout).toContain("Makespan, from the journal's run 1 (8 timed):\n  predicted    ");
    // A new item of a recorded task takes the median of that task's recorded instances.
    writeFileSync(join(dir, "plan.yml"), PLAN.replace("items: [a, b]", "items: [a, b, c]"));
    const grown = JSON.parse((await fanout(dir, "explain", "plan.yml", "--json")).stdout);
    expect(grown.durations).toMatchObject({ recorded: 8, estimated: 2, unknown: 0 });
    const off = await fanout(dir, "explain", "plan.yml", "--json", "--no-journal");
    expect(JSON.parse(off.stdout).makespan).toBeNull();
  }, 90_000);

  test("selection and invalid input work as for run: exit 2 naming the instance", async () => {
    const dir = project();
    const only = JSON.parse((await fanout(dir, "explain", "plan.yml", "--json", "--only", "seed", "--limit", "web1")).stdout);
    expect([only.instances, only.tasks.map((t: { name: string }) => t.name), only.selection.tasks]).toEqual([3, ["fetch", "schema", "seed"], ["fetch", "schema", "seed"]]);
    const broken = writeFiles({ "plan.yml": "version: 1\nvars: { n: 5 }\ntasks:\n  - { name: t, module: shell, with: { argv: [ls], cwd: '{{ vars.n }}' } }\n" });
    const r = await fanout(broken, "explain", "plan.yml");
    expect([r.code, r.stdout, r.stderr]).toEqual([2, "", "error: plan.yml:4:37: tasks[0].with: t[localhost]: invalid input for module shell: cwd: expected cwd as a path\n"]);
  }, 60_000);

  test("help lists explain with its options and examples", async () => {
    const r = await fanout(import.meta.dir, "help", "explain");
    expect(r.code).toBe(0);
    for (const text of ["fanout explain <plan>", "--json", "--only <tasks>", "--no-journal", "fanout explain deploy.yml --json | jq .makespan"]) expect(r.stdout).toContain(text);
    expect((await fanout(import.meta.dir, "help")).stdout).toContain("explain <plan>");
  }, 60_000);
});
