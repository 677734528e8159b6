/**
 * One attempt's module call, through real runs: whatever the module does
 * when it is called ends as an outcome value, and the run goes on.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { PLUGIN_FIXTURES } from "./runtime/plugin_fixtures.ts";
import { runPlanText } from "./test_helpers.ts";

test("ModuleCall › a throw before any await, or a result whose `then` throws, fails that instance; the others run", async () => {
  const log = await runPlanText(`version: 1
plugins: { odd: ${join(PLUGIN_FIXTURES, "odd_results.ts")} }
tasks:
  - { name: r, module: odd, items: [sync_throw, throwing_then, clean], with: { kind: "{{ item }}" } }
`);
  const byItem = Object.fromEntries(log.ends.map((e) => [String(e.item), [e.status, e.error]]));
  expect(byItem).toEqual({
    sync_throw: ["failed", "thrown before any await"],
    throwing_then: ["failed", "then exploded"],
    clean: ["ok", null],
  });
  expect(log.exitCode).toBe(1);
  expect(log.end.summary.total).toBe(3);
});
