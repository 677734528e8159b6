import { describe, expect, test } from "bun:test";
import { formatBytes, formatDuration, parseDuration, parseSize } from "./units.ts";
import { closest } from "./suggest.ts";

describe("units", () => {
  test("durations need a unit", () => {
    expect([parseDuration("250ms"), parseDuration("1.5s"), parseDuration("2m"), parseDuration("1h")]).toEqual([250, 1500, 120_000, 3_600_000]);
    expect([parseDuration("30"), parseDuration("fast"), parseDuration("-1s")]).toEqual([undefined, undefined, undefined]);
  });

  test("sizes: binary for KiB/K, decimal for KB", () => {
    expect([parseSize("512MiB"), parseSize("1G"), parseSize("2GB"), parseSize("100"), parseSize(4096)]).toEqual([512 * 2 ** 20, 2 ** 30, 2e9, 100, 4096]);
    expect([parseSize("lots"), parseSize(-1)]).toEqual([undefined, undefined]);
  });

  test("formatting for people", () => {
    expect([formatBytes(512), formatBytes(1536), formatDuration(850), formatDuration(12_345), formatDuration(125_000)]).toEqual(["512 B", "1.5 KiB", "850ms", "12.3s", "2m5s"]);
  });

  test("did you mean: close names only", () => {
    expect(closest("retires", ["retries", "resources"])).toBe("retries");
    expect(closest("xyz", ["retries", "resources"])).toBeUndefined();
  });
});
