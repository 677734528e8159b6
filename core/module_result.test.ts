/**
 * Module results that bend the TaskResult contract, returned by a real
 * plugin in a real run: each ends as a value (task_end) with `warn` log
 * events naming what was changed, never a silent change, never a negative
 * or NaN bytes_per_s.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { PLUGIN_FIXTURES } from "./runtime/plugin_fixtures.ts";
import type { LogEvent, TaskEndEvent } from "./telemetry/events.ts";
import { runPlanText } from "./test_helpers.ts";

const KINDS = ["string", "number", "array", "negative_bytes", "nan_bytes", "text_bytes", "error_class", "error_object", "lossy_data", "bigint", "text_data", "flat_nan", "flat_throwing_getter", "flat", "clean"];

async function runKinds() {
  const log = await runPlanText(`version: 1
plugins: { odd: ${join(PLUGIN_FIXTURES, "odd_results.ts")} }
tasks:
  - { name: r, module: odd, items: ${JSON.stringify(KINDS)}, with: { kind: "{{ item }}" } }
`);
  const ends = Object.fromEntries(log.ends.map((e) => [String(e.item), e])) as Record<string, TaskEndEvent>;
  const warnings: Record<string, string[]> = {};
  for (const e of log.events) {
    if (e.type !== "log" || (e as LogEvent).level !== "warn") continue;
    const kind = /\[(\w+)\]$/.exec(String(e.id))![1]!;
    (warnings[kind] ??= []).push(e.message);
  }
  return { log, ends, warnings };
}

const pick = (e: TaskEndEvent) => ({ status: e.status, error: e.error, data: e.data, bytes: e.bytes });

describe("module results › through a real run", () => {
  let log: Awaited<ReturnType<typeof runKinds>>["log"];
  let ends: Record<string, TaskEndEvent>;
  let warnings: Record<string, string[]>;
  beforeAll(async () => {
    ({ log, ends, warnings } = await runKinds());
  });

  test("a result that is not an object is ok, kept as data.value, with a warning naming its type", () => {
    expect(pick(ends.string!)).toEqual({ status: "ok", error: null, data: { value: "hello" }, bytes: 0 });
    expect(pick(ends.number!)).toEqual({ status: "ok", error: null, data: { value: 42 }, bytes: 0 });
    expect(pick(ends.array!)).toEqual({ status: "ok", error: null, data: { value: [1, 2] }, bytes: 0 });
    for (const [kind, type] of [["string", "a string"], ["number", "a number"], ["array", "an array"]]) {
      expect(warnings[kind!]).toEqual([`the module returned ${type}, not a result object ({ changed, failed, error, data, bytes }): kept as data.value`]);
    }
  });

  test("bytes that is not a non-negative finite number counts 0, with a warning; the run's bytes_per_s stays sound", () => {
    for (const [kind, got] of [["negative_bytes", "-5"], ["nan_bytes", "NaN"], ["text_bytes", "a string"]]) {
      expect([kind, ends[kind!]!.status, ends[kind!]!.bytes]).toEqual([kind, "ok", 0]);
      expect(warnings[kind!]).toEqual([`bytes: expected a non-negative finite number, got ${got}: counted as 0`]);
    }
    expect(log.end.summary.bytes).toBe(10);
    expect(Number.isFinite(log.end.summary.bytes_per_s) && log.end.summary.bytes_per_s >= 0).toBe(true);
  });

  test("failed: true with an error that is not a string: the error as text", () => {
    expect(pick(ends.error_class!)).toEqual({ status: "failed", error: "TypeError: bad thing", data: {}, bytes: 0 });
    expect(pick(ends.error_object!)).toEqual({ status: "failed", error: '{"code":7}', data: {}, bytes: 0 });
  });

  test("data JSON would change: written as JSON writes it, a warning per key path", () => {
    expect(pick(ends.lossy_data!)).toEqual({
      status: "ok",
      error: null,
      data: { nested: { list: [1, null, null] }, nan: null, inf: null, when: "1970-01-01T00:00:00.000Z", seen: {}, fine: "kept" },
      bytes: 0,
    });
    expect(warnings.lossy_data).toEqual([
      "data.fn: a function, which JSON leaves out",
      "data.nested.u: undefined, which JSON leaves out",
      "data.nested.list[1]: undefined, which JSON writes as null",
      "data.nested.list[2]: a function, which JSON writes as null",
      "data.nan: NaN, which JSON writes as null",
      "data.inf: -Infinity, which JSON writes as null",
      'data["odd key"]: a symbol, which JSON leaves out',
      "data.seen: a Map, which JSON writes as {}",
    ]);
  });

  test("data JSON cannot hold fails the instance, naming the path; data that is not a mapping is kept as data.value", () => {
    expect(pick(ends.bigint!)).toEqual({ status: "failed", error: "the module returned data that is not JSON-serialisable: data.counts[1]: a BigInt, which JSON cannot hold", data: {}, bytes: 0 });
    expect(pick(ends.text_data!)).toEqual({ status: "ok", error: null, data: { value: "just text" }, bytes: 0 });
    expect(warnings.text_data).toEqual(["data: expected a mapping, got a string: kept as data.value"]);
  });

  test("flat data (every value a string, number, boolean or null) is checked too: a NaN warns, a getter that throws fails the instance", () => {
    expect(pick(ends.flat_nan!)).toEqual({ status: "ok", error: null, data: { code: 0, out: "x", ok: true, none: null, nan: null }, bytes: 0 });
    expect(warnings.flat_nan).toEqual(["data.nan: NaN, which JSON writes as null"]);
    expect(pick(ends.flat_throwing_getter!)).toEqual({ status: "failed", error: "the module returned data that is not JSON-serialisable: getter exploded", data: {}, bytes: 0 });
    expect(pick(ends.flat!)).toEqual({ status: "ok", error: null, data: { code: 0, out: "x\n", ok: false, none: null, big: 1e300 }, bytes: 0 });
    expect(warnings.flat).toBeUndefined();
  });

  test("a result within the contract gives no warning", () => {
    expect(pick(ends.clean!)).toEqual({ status: "ok", error: null, data: { a: 1 }, bytes: 10 });
    expect(warnings.clean).toBeUndefined();
    expect(log.end).toBeDefined();
  });
});
