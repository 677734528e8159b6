/**
 * No silent success: every planned instance gets one task_end, every run ends
 * with run_end, and the exit code says whether all of it ran. Through the
 * compiled binary, as users run it.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { compiledBinary } from "./runtime/fanout_runtimes.ts";
import { writeFiles } from "./test_helpers.ts";

let bin = "";
beforeAll(() => {
  bin = compiledBinary();
}, 120_000);

function run(plan: string, args: string[] = ["--json", "-q"]) {
  const dir = writeFiles({ "plan.yml": plan });
  const r = spawnSync(bin, ["run", "plan.yml", ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  const events: Record<string, any>[] = r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const ends: Record<string, any> = Object.fromEntries(events.filter((e) => e.type === "task_end").map((e) => [e.id, e]));
  return { dir, code: r.status, stdout: r.stdout, stderr: r.stderr, events, ends };
}

describe("a step with no instances is a finished step", () => {
  test("items: [] — what follows it runs, and the run ends with run_end and exit 0", () => {
    const r = run(`version: 1
hosts: [h1, h2]
tasks:
  - { name: empty, module: shell, items: [], with: { argv: [touch, "never-{{ item }}"] } }
  - { name: after, module: shell, with: { argv: [touch, "after-{{ host }}"] } }
  - { name: last, module: shell, with: { argv: [touch, "last-{{ host }}"] } }
`);
    expect(r.code).toBe(0);
    expect(Object.keys(r.ends).sort()).toEqual(["after[h1]", "after[h2]", "last[h1]", "last[h2]"]);
    expect(r.events.at(-1)).toMatchObject({ type: "run_end", summary: { total: 4, ok: 4 } });
    for (const f of ["after-h1", "after-h2", "last-h1", "last-h2"]) expect(existsSync(join(r.dir, f))).toBe(true);
  });

  test("a glob that matches nothing: a warning before the run (run_start.warnings, stderr) and its dependants run", () => {
    const r = run(`version: 1
tasks:
  - { name: files, module: shell, items_from: { glob: "nothing/*.csv" }, with: { argv: [cat, "{{ item }}"] } }
  - { name: after, module: shell, with: { argv: [touch, done] } }
`, ["--json"]);
    expect(r.code).toBe(0);
    expect(r.events[0]!.warnings).toEqual([expect.stringContaining('plan.yml:3:47: tasks[0].items_from: glob "nothing/*.csv" matched no files: task "files" has no instances')]);
    // Said before the run, and again beside the summary; run_end carries it too.
    expect(r.stderr.split('glob "nothing/*.csv" matched no files').length - 1).toBe(2);
    expect(r.events.at(-1)!.summary.warnings).toEqual(r.events[0]!.warnings);
    expect(r.ends["after[localhost]"].status).toBe("ok");
    expect(existsSync(join(r.dir, "done"))).toBe(true);
  });

  test("--dry-run shows a dependant waiting for what the empty step waited for, not for the empty step", () => {
    const r = run(`version: 1
tasks:
  - { name: first, module: shell, with: { argv: ["true"] } }
  - { name: empty, module: shell, items: [], with: { argv: [echo, "{{ item }}"] } }
  - { name: after, module: shell, with: { argv: ["true"] } }
`, ["--dry-run", "--json"]);
    expect(r.code).toBe(0);
    const after = r.events.find((l) => l.id === "after[localhost]");
    expect(after!.needs).toEqual(["first[localhost]"]);
  });
});

describe("the exit code tells the truth", () => {
  test("a failure below a chain: skipped instances are ended, counted, and the exit is 1", () => {
    const r = run(`version: 1
tasks:
  - { name: a, module: shell, with: { argv: ["false"] } }
  - { name: b, module: shell, items: [1, 2], with: { argv: ["true"] } }
`);
    expect(r.code).toBe(1);
    expect(Object.values(r.ends).map((e) => e.status).sort()).toEqual(["failed", "skipped", "skipped"]);
    expect(r.events.at(-1)).toMatchObject({ type: "run_end", summary: { total: 3, ok: 0, failed: 1, skipped: 2 } });
  });

  test("repeated items are separate instances, each with its own task_end", () => {
    const r = run(`version: 1
tasks:
  - { name: a, module: shell, items: [x, x, y], with: { argv: [echo, "{{ item }}"] } }
`);
    expect(r.code).toBe(0);
    expect(Object.keys(r.ends).sort()).toEqual(["a[localhost][x]", "a[localhost][x]#2", "a[localhost][y]"]);
  });
});
