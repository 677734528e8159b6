/**
 * describeError on values that are hard to describe, each thrown by a real
 * plugin in a real run: the run must end normally (run_end written), the
 * instance failed with a bounded text; and on its own, for the forms.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { describeError } from "./errors.ts";
import { PLUGIN_FIXTURES } from "./runtime/plugin_fixtures.ts";
import { runPlanText } from "./test_helpers.ts";

const KINDS = ["cycle", "self", "message_getter", "to_string", "proxy"];

describe("describeError › thrown by a plugin in a real run", () => {
  test("a looping cause chain, a throwing message getter, a throwing toString, a hostile Proxy: each instance fails, the run ends", async () => {
    const plan = `version: 1
plugins: { hostile: ${join(PLUGIN_FIXTURES, "hostile_errors.ts")} }
tasks:
  - { name: t, module: hostile, items: ${JSON.stringify(KINDS)}, with: { kind: "{{ item }}" } }
`;
    const log = await runPlanText(plan);
    expect(log.end).toBeDefined();
    expect(log.exitCode).toBe(1);
    const errors = Object.fromEntries(log.ends.map((e) => [e.item, [e.status, e.error]]));
    expect(errors).toEqual({
      cycle: ["failed", "first (cause: second (cause: [Circular]))"],
      self: ["failed", "itself (cause: [Circular])"],
      message_getter: ["failed", "an error whose message could not be read (its getter threw Error: message getter exploded)"],
      to_string: ["failed", "[object Object] (its toString threw)"],
      proxy: ["failed", "an unprintable value (its toString threw)"],
    });
  });
});

describe("describeError › forms", () => {
  test("a cause chain reads outwards in; a long chain is cut after 10", () => {
    expect(describeError(new Error("a", { cause: new Error("b", { cause: "c" }) }))).toBe("a (cause: b (cause: c))");
    let deep: unknown = "bottom";
    for (let i = 20; i > 0; i--) deep = new Error(`e${i}`, { cause: deep });
    const text = describeError(deep);
    expect(text).toStartWith("e1 (cause: e2 (cause: e3");
    expect(text).toContain("e10 (cause: …)");
    expect(text).not.toContain("e11");
    expect(text.endsWith(")".repeat(10))).toBe(true);
  });

  test("thrown values that are not errors: JSON for plain objects, their own toString otherwise", () => {
    expect(describeError({ code: 5 })).toBe('{"code":5}');
    expect(describeError({ toString: () => "custom" })).toBe("custom");
    expect(describeError("text")).toBe("text");
    expect(describeError(undefined)).toBe("undefined");
    expect(describeError(Symbol("s"))).toBe("Symbol(s)");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeError(cyclic)).toBe("[object Object]");
  });

  test("a message of a million characters is cut at 10,000", () => {
    expect(describeError(new Error("x".repeat(1_000_000))).length).toBe(10_001);
  });
});
