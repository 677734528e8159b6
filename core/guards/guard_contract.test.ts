/**
 * One contract, run against every guard implementation: refuses at capacity,
 * gives room back on release, never waits, and takes all-or-nothing through
 * tryAcquireAll.
 */
import { describe, expect, test } from "bun:test";
import type { Guard } from "./guard.ts";
import { GuardSet, releaseAll, tryAcquireAll } from "./guard_set.ts";
import { Semaphore } from "./semaphore.ts";
import { TokenBucket } from "./token_bucket.ts";

interface Implementation {
  name: string;
  make(capacity: number): Guard;
  /** Whether release() gives room back (a bucket's tokens are consumed). */
  returnsOnRelease: boolean;
}

const implementations: Implementation[] = [
  { name: "Semaphore", make: (c) => new Semaphore("s", "host", c), returnsOnRelease: true },
  // A bucket that refills so slowly it never refills inside a test.
  { name: "TokenBucket", make: (c) => new TokenBucket("b", 1e-9, c), returnsOnRelease: false },
];

for (const impl of implementations) {
  describe(`${impl.name} contract`, () => {
    test("grants up to capacity, then refuses", () => {
      const g = impl.make(3);
      expect([1, 2, 3].map(() => g.tryAcquire(1, 0))).toEqual([true, true, true]);
      expect(g.tryAcquire(1, 0)).toBe(false);
      expect(g.available(0)).toBe(0);
    });

    test("refuses an amount larger than what is left, without taking part of it", () => {
      const g = impl.make(3);
      expect(g.tryAcquire(2, 0)).toBe(true);
      expect(g.tryAcquire(2, 0)).toBe(false);
      expect(g.available(0)).toBe(1);
    });

    test(impl.returnsOnRelease ? "release gives the room back" : "release does not mint tokens", () => {
      const g = impl.make(1);
      expect(g.tryAcquire(1, 0)).toBe(true);
      g.release(1, 0);
      expect(g.tryAcquire(1, 0)).toBe(impl.returnsOnRelease);
    });

    test("readyAt is now or later, Infinity when only a release helps", () => {
      const g = impl.make(1);
      expect(g.readyAt(1, 5)).toBe(5);
      g.tryAcquire(1, 5);
      const at = g.readyAt(1, 5);
      expect(at).toBeGreaterThan(5);
      if (impl.returnsOnRelease) expect(at).toBe(Infinity);
    });
  });
}

describe("Semaphore", () => {
  test("each holder's own limit holds: a limit-1 holder keeps out everyone, a limit-2 holder admits one more", () => {
    const s = new Semaphore("host:h", "host", 2);
    expect(s.tryAcquire(1, 0, 2)).toBe(true);
    // A limit-1 instance may not join a holder: it would be 2 > its own 1.
    expect(s.available(0, 1)).toBe(0);
    expect(s.tryAcquire(1, 0, 1)).toBe(false);
    s.release(1, 0, 2);
    expect(s.tryAcquire(1, 0, 1)).toBe(true);
    // While the limit-1 holder runs, even a limit-2 instance may not join it.
    expect(s.available(0, 2)).toBe(0);
    expect(s.tryAcquire(1, 0, 2)).toBe(false);
    s.release(1, 0, 1);
    expect([s.tryAcquire(1, 0, 2), s.tryAcquire(1, 0, 2), s.tryAcquire(1, 0, 2)]).toEqual([true, true, false]);
  });

  test("releasing more than is held is an internal error, loudly", () => {
    const s = new Semaphore("s", "cpu", 2);
    s.tryAcquire(1, 0);
    expect(() => s.release(2, 0)).toThrow(/Internal error/);
  });

  test("capacity below 1 is refused", () => {
    expect(() => new Semaphore("s", "cpu", 0)).toThrow(RangeError);
  });
});

describe("tryAcquireAll", () => {
  test("takes every guard or none, and names the one that refused", () => {
    const a = new Semaphore("a", "host", 1);
    const b = new Semaphore("b", "global", 1);
    b.tryAcquire(1, 0);
    const refused = tryAcquireAll([{ guard: a, amount: 1 }, { guard: b, amount: 1 }], 0);
    expect(refused).toBe(b);
    expect(a.available(0)).toBe(1);
  });

  test("a refusal costs a token bucket nothing", () => {
    const bucket = new TokenBucket("b", 1, 1);
    const busy = new Semaphore("s", "host", 1);
    busy.tryAcquire(1, 0);
    expect(tryAcquireAll([{ guard: bucket, amount: 1 }, { guard: busy, amount: 1 }], 0)).toBe(busy);
    expect(bucket.available(0)).toBe(1);
  });

  test("releaseAll returns what tryAcquireAll took", () => {
    const a = new Semaphore("a", "cpu", 2);
    const b = new Semaphore("b", "io", 4);
    const reqs = [{ guard: a, amount: 2 }, { guard: b, amount: 3 }];
    expect(tryAcquireAll(reqs, 0)).toBeUndefined();
    expect([a.available(0), b.available(0)]).toEqual([0, 1]);
    releaseAll(reqs, 0);
    expect([a.available(0), b.available(0)]).toEqual([2, 4]);
  });
});

describe("GuardSet", () => {
  test("one guard per name; declared with a wider limit, a keyed lock widens to it", () => {
    const set = new GuardSet({ cpu: 1, io: [{ name: "io", capacity: 4, sequentialIoWeight: 1 }] });
    const first = set.keyed("pool", 2);
    expect(set.keyed("pool", 2)).toBe(first);
    expect(set.keyed("pool", 3)).toBe(first);
    expect(first.capacity).toBe(3);
  });

  test("a bucket declared twice keeps the lowest rate and the lowest burst", () => {
    const set = new GuardSet({ cpu: 1, io: [{ name: "io", capacity: 4, sequentialIoWeight: 1 }] });
    const b = set.bucket("api", 10, 2);
    expect(set.bucket("api", 4, 5)).toBe(b);
    expect([b.perSecond, b.burst]).toEqual([4, 2]);
    // Full at the tighter burst: two now, the third only after 1/4 s.
    expect([b.tryAcquire(1, 0), b.tryAcquire(1, 0), b.tryAcquire(1, 0)]).toEqual([true, true, false]);
    expect(b.readyAt(1, 0)).toBeCloseTo(250);
  });

  test("pools are sized from the sizes given", () => {
    const set = new GuardSet({
      cpu: 3,
      io: [{ name: "io", capacity: 24, sequentialIoWeight: 3 }, { name: "io:8_16", capacity: 4, sequentialIoWeight: 4 }],
      memBudget: 1024,
    });
    expect([set.cpu.capacity, set.io.get("io")?.guard.capacity, set.io.get("io:8_16")?.guard.capacity, set.mem?.capacity]).toEqual([3, 24, 4, 1024]);
    expect(set.all().map((g) => g.name).sort()).toEqual(["cpu", "io", "io:8_16", "mem"]);
  });
});
