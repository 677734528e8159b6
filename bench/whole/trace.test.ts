/** FANOUT_TRACE lines → phases on the benchmark's clock, and their medians. */
import { describe, expect, test } from "bun:test";
import { parseTrace, phaseMedians } from "./trace.ts";

const line = (trace: string, epoch: number) => JSON.stringify({ trace, t_ms: 1, epoch_ms: epoch });

describe("parseTrace", () => {
  test("keeps trace lines only, each as ms after the spawn", () => {
    const stderr = [line("cli_loaded", 1005), "warn something", line("exit", 1012.5), ""].join("\n");
    expect(parseTrace(stderr, 1000)).toEqual([{ phase: "cli_loaded", ms: 5 }, { phase: "exit", ms: 12.5 }]);
  });
});

describe("phaseMedians", () => {
  test("median end and median step per phase, with the reaping last", () => {
    const runs = [
      [{ phase: "a", ms: 4 }, { phase: "b", ms: 10 }],
      [{ phase: "a", ms: 6 }, { phase: "b", ms: 9 }],
      [{ phase: "a", ms: 5 }, { phase: "b", ms: 20 }],
    ];
    expect(phaseMedians(runs, [11, 12, 21])).toEqual([
      { phase: "a", at_ms: 5, step_ms: 5 },
      { phase: "b", at_ms: 10, step_ms: 6 },
      { phase: "reaped", at_ms: 12, step_ms: 1 },
    ]);
  });

  test("a phase missing from a run counts only where it was seen", () => {
    const runs = [[{ phase: "a", ms: 2 }, { phase: "b", ms: 3 }], [{ phase: "a", ms: 4 }]];
    expect(phaseMedians(runs, [5, 6]).map((p) => p.phase)).toEqual(["a", "b", "reaped"]);
    expect(phaseMedians(runs, [5, 6])[1]).toEqual({ phase: "b", at_ms: 3, step_ms: 1 });
  });

  test("one end per run", () => {
    expect(() => phaseMedians([[]], [])).toThrow(RangeError);
  });
});
