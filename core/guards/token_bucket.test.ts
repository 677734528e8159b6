import { describe, expect, test } from "bun:test";
import { TokenBucket } from "./token_bucket.ts";

describe("TokenBucket", () => {
  test("starts full: burst acquisitions at once, then refuses", () => {
    const b = new TokenBucket("api", 10, 3);
    expect([0, 0, 0, 0].map((t) => b.tryAcquire(1, t))).toEqual([true, true, true, false]);
  });

  test("refuses when empty and refills after 1000/rate ms", () => {
    const b = new TokenBucket("api", 20, 1);
    expect(b.tryAcquire(1, 1000)).toBe(true);
    expect(b.tryAcquire(1, 1049)).toBe(false);
    expect(b.readyAt(1, 1049)).toBeCloseTo(1050, 6);
    expect(b.tryAcquire(1, 1050)).toBe(true);
  });

  test("never holds more than burst, however long it idles", () => {
    const b = new TokenBucket("api", 100, 2);
    b.tryAcquire(2, 0);
    expect(b.available(1_000_000)).toBe(2);
  });

  test("any window of w ms grants at most burst + rate × w / 1000 (fake clock, greedy client)", () => {
    const rate = 7;
    const burst = 3;
    const b = new TokenBucket("api", rate, burst);
    const grants: number[] = [];
    for (let t = 0; t <= 10_000; t += 0.5) if (b.tryAcquire(1, t)) grants.push(t);
    for (const w of [100, 1000, 2500]) {
      let worst = 0;
      for (let i = 0; i < grants.length; i++) {
        let j = i;
        while (j < grants.length && grants[j]! - grants[i]! <= w) j++;
        worst = Math.max(worst, j - i);
      }
      expect(worst).toBeLessThanOrEqual(burst + (rate * w) / 1000);
    }
    // And it is not stingy: over 10 s the greedy client got the full rate.
    expect(grants.length).toBeGreaterThanOrEqual(burst + rate * 10 - 1);
  });

  test("time going backwards neither mints nor loses tokens", () => {
    const b = new TokenBucket("api", 10, 1);
    b.tryAcquire(1, 500);
    expect(b.tryAcquire(1, 400)).toBe(false);
    expect(b.tryAcquire(1, 600)).toBe(true);
  });

  test("rejects a non-positive rate or a burst below 1", () => {
    expect(() => new TokenBucket("x", 0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket("x", 1, 0)).toThrow(RangeError);
  });
});
