import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { calibrate, findKnee } from "./calibrate.ts";
import { readCalibration } from "./calibration_cache.ts";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "fanout-calibrate-"));
const cache = path.join(work, "cache");
const target = path.join(work, "data");
fs.mkdirSync(target);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("findKnee", () => {
  test("the smallest depth within 10% of the best", () => {
    const pts = [[1, 100], [2, 180], [4, 310], [8, 330], [16, 340]].map(([depth, mibPerSec]) => ({ depth: depth!, mibPerSec: mibPerSec!, reads: 1, ms: 1 }));
    expect(findKnee(pts)).toEqual({ knee: 4, best: 16 });
  });
});

describe("calibrate", () => {
  test("a 300 ms sweep returns a point per depth, a knee among them, caches it and leaves no temp file", async () => {
    const env = { XDG_CACHE_HOME: cache };
    const started = performance.now();
    const r = await calibrate(target, { budgetMs: 300, depths: [1, 2, 4], env });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(r.points.map((p) => p.depth)).toEqual([1, 2, 4]);
    for (const p of r.points) {
      expect(p.reads).toBeGreaterThan(0);
      expect(p.mibPerSec).toBeGreaterThan(0);
    }
    expect([1, 2, 4]).toContain(r.knee);
    expect(typeof r.direct).toBe("boolean");
    if (!r.direct) expect(r.notes.join(" ")).toContain("page cache");
    expect(r.cacheFile).toStartWith(path.join(cache, "fanout"));
    expect(fs.existsSync(r.cacheFile!)).toBe(true);
    expect(readCalibration(r.key, { env })?.knee).toBe(r.knee);
    expect(fs.readdirSync(target)).toEqual([]);
  });

  test("the temp file is removed when the sweep is aborted", async () => {
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await expect(calibrate(target, { budgetMs: 100, depths: [1], env: { XDG_CACHE_HOME: cache }, signal: ac.signal })).rejects.toThrow("stop");
    expect(fs.readdirSync(target)).toEqual([]);
  });
});
