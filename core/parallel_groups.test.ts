/**
 * parallel: groups from real runs: each child writes its own start and end
 * times (date +%s%N), so the limit and the step order are read off what the
 * processes did, not only off the scheduler's log.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { intervals, maxOverlap, runPlanText } from "./test_helpers.ts";

/** A shell task that writes its start and end time (ns) to NAME.start and NAME.end. */
const timed = (name: string, seconds = 0.2) =>
  `{ name: ${name}, module: shell, with: { shell: true, cmd: "date +%s%N > ${name}.start; sleep ${seconds}; date +%s%N > ${name}.end" } }`;

function spans(dir: string, names: string[]): { id: string; start: number; end: number }[] {
  const ns = (file: string) => Number(BigInt(readFileSync(join(dir, file), "utf8").trim()) / 1000n) / 1000; // ms
  return names.map((id) => ({ id, start: ns(`${id}.start`), end: ns(`${id}.end`) }));
}

describe("parallel groups", () => {
  test("a group's limit bounds its running children; what follows starts after all of them", async () => {
    const children = ["a", "b", "c", "d", "e"];
    const log = await runPlanText(`
version: 1
parallelism: 8
tasks:
  - name: g
    limit: 2
    parallel:
${children.map((c) => `      - ${timed(c)}`).join("\n")}
  - ${timed("after", 0)}
`);
    expect(log.exitCode).toBe(0);
    const own = spans(log.dir, children);
    expect(maxOverlap(own)).toBeLessThanOrEqual(2);
    expect(maxOverlap(intervals(log.events).filter((i) => i.id !== "after[localhost]"))).toBeLessThanOrEqual(2);
    const [after] = spans(log.dir, ["after"]);
    expect(after!.start).toBeGreaterThanOrEqual(Math.max(...own.map((s) => s.end)));
    expect(log.starts.filter((s) => s.task !== "after").every((s) => s.guards.includes("group:g"))).toBe(true);
  }, 60_000);

  test("nested groups at -p 1 all finish, one at a time, and the next step waits for the whole group", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 1
tasks:
  - ${timed("first", 0)}
  - name: outer
    limit: 2
    parallel:
      - ${timed("a", 0.05)}
      - name: inner
        limit: 1
        parallel:
          - ${timed("b", 0.05)}
          - ${timed("c", 0.05)}
      - ${timed("d", 0.05)}
  - ${timed("last", 0)}
`);
    expect(log.exitCode).toBe(0);
    expect(log.ends.map((e) => e.status)).toEqual(Array(6).fill("ok"));
    const all = spans(log.dir, ["first", "a", "b", "c", "d", "last"]);
    expect(maxOverlap(all)).toBe(1);
    const [first, a, b, c, d, last] = all;
    for (const child of [a, b, c, d]) {
      expect(child!.start).toBeGreaterThanOrEqual(first!.end);
      expect(last!.start).toBeGreaterThanOrEqual(child!.end);
    }
  }, 60_000);

  test("a failed child skips what follows the group, and only that", async () => {
    const log = await runPlanText(`
version: 1
tasks:
  - name: g
    parallel:
      - { name: bad, module: shell, with: { argv: ["false"] } }
      - { name: good, module: debug, with: { message: ok } }
  - { name: after, module: debug, with: { message: x } }
`);
    const status = Object.fromEntries(log.ends.map((e) => [e.task, [e.status, e.error]]));
    expect(status.good![0]).toBe("ok");
    expect(status.bad![0]).toBe("failed");
    expect(status.after).toEqual(["skipped", "skipped: bad[localhost] did not succeed"]);
  }, 60_000);
});
