/** Medians, ratios and goals of the whole-process benchmark: null in, null out; never a number made up. */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { atMost, mb, median, parseTimeVMaxRss, per, ratio } from "./figures.ts";

describe("median", () => {
  test("nearest rank, order does not matter; none is null", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(median([])).toBeNull();
  });
});

describe("ratio / per / mb", () => {
  test("ratio to 0.01, null when a side is missing or the divisor is not positive", () => {
    expect(ratio(11.4, 3.2)).toBe(3.56);
    expect(ratio(null, 3)).toBeNull();
    expect(ratio(3, null)).toBeNull();
    expect(ratio(3, 0)).toBeNull();
  });

  test("per divides and rounds; mb is bytes / 2^20 to one decimal", () => {
    expect(per(1040, 2000)).toBe(0.52);
    expect(per(1234.5678, 1000, 2)).toBe(1.23);
    expect(per(null, 10)).toBeNull();
    expect(mb(174 * 2 ** 20 + 60_000)).toBe(174.1);
    expect(mb(null)).toBeNull();
  });
});

describe("atMost", () => {
  test("met only when every figure is within its limit", () => {
    expect(atMost([1.0, 1.1])).toBe(true);
    expect(atMost([1.1, 1.1], [0.3, 0.35])).toBe(true);
    expect(atMost([1.2, 1.1], [0.3, 0.35])).toBe(false);
    expect(atMost([1.0, 1.1], [0.4, 0.35])).toBe(false);
  });

  test("null when any figure or limit is missing, even beside a miss", () => {
    expect(atMost([null, 1.1])).toBeNull();
    expect(atMost([1.0, null])).toBeNull();
    expect(atMost([2, 1], [0.3, null])).toBeNull();
  });
});

describe("parseTimeVMaxRss", () => {
  test("reads the kbytes line, in bytes", () => {
    const text = "\tCommand being timed: \"x\"\n\tMaximum resident set size (kbytes): 178176\n\tAverage resident set size (kbytes): 0\n";
    expect(parseTimeVMaxRss(text)).toBe(178176 * 1024);
  });

  test("undefined without it", () => {
    expect(parseTimeVMaxRss("Command exited with non-zero status 1\n")).toBeUndefined();
  });

  test.skipIf(!existsSync("/usr/bin/time"))("reads what /usr/bin/time -v really prints (needs /usr/bin/time)", () => {
    const res = spawnSync("/usr/bin/time", ["-v", "true"], { encoding: "utf8" });
    const bytes = parseTimeVMaxRss(res.stderr);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes! % 1024).toBe(0);
  });
});
