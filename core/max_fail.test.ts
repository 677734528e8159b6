/**
 * max_fail_percentage from real runs: every execution appends a line to a
 * file, so the count of real executions is read off the file.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runPlanText } from "./test_helpers.ts";

const runs = (dir: string) => (existsSync(join(dir, "runs")) ? readFileSync(join(dir, "runs"), "utf8").split("\n").filter(Boolean).length : 0);

const failing = (extra: string) => `
  - name: t
    items: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    module: shell
    with: { shell: true, cmd: "echo {{ item }} >> runs; exit 1" }${extra}
  - { name: after, module: debug, with: { message: x } }
`;

describe("max_fail_percentage", () => {
  test("once more than the share has failed, the task's unstarted instances are skipped, and its dependants", async () => {
    const log = await runPlanText(`version: 1\nparallelism: 1\ntasks:${failing("\n    max_fail_percentage: 20")}`);
    // 3 of 10 is the first share over 20 %.
    expect(runs(log.dir)).toBe(3);
    const t = log.ends.filter((e) => e.task === "t");
    expect(t.filter((e) => e.status === "failed").length).toBe(3);
    const skipped = t.filter((e) => e.status === "skipped");
    expect(skipped.length).toBe(7);
    expect(new Set(skipped.map((e) => e.error))).toEqual(new Set(["skipped: task t is over its max_fail_percentage 20 (3 of 10 instances failed)"]));
    expect(log.starts.filter((s) => s.task === "t").length).toBe(3);
    expect(log.ends.find((e) => e.task === "after")!.status).toBe("skipped");
    expect(log.exitCode).toBe(1);
  }, 60_000);

  test("the plan's default applies; a task's own overrides it; 100 never stops a task", async () => {
    const plan = (extra: string) => `version: 1\nparallelism: 1\nmax_fail_percentage: 0\ntasks:${failing(extra)}`;
    const byDefault = await runPlanText(plan(""));
    expect(runs(byDefault.dir)).toBe(1);
    const overridden = await runPlanText(plan("\n    max_fail_percentage: 100"));
    expect(runs(overridden.dir)).toBe(10);
  }, 60_000);

  test("instances already running finish: at -p 4 at most the 4 in flight run past the threshold", async () => {
    const log = await runPlanText(`version: 1\nparallelism: 4\ntasks:${failing("\n    max_fail_percentage: 0")}`);
    const n = runs(log.dir);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(4);
    expect(log.ends.filter((e) => e.task === "t" && e.status === "failed").length).toBe(n);
    expect(log.ends.filter((e) => e.task === "t" && e.status === "skipped").length).toBe(10 - n);
  }, 60_000);

  test("with fail-fast the first failure stops everything first: the rest are cancelled, not skipped", async () => {
    const log = await runPlanText(`version: 1\nparallelism: 1\ntasks:${failing("\n    max_fail_percentage: 50")}`, { failFast: true });
    expect(runs(log.dir)).toBe(1);
    expect(log.ends.filter((e) => e.status === "cancelled").length).toBe(10);
  }, 60_000);
});
