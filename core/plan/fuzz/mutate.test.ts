/** The fuzz mutator: the same seed and index always give the same bytes; every kind of damage is used. */
import { describe, expect, test } from "bun:test";
import { MUTATORS, mutant, seededRandom } from "./mutate.ts";

const PLAN = new TextEncoder().encode("version: 1\nvars: { a: 1 }\ntasks:\n  - name: a\n    module: debug\n    with: { message: hi }\n");

describe("mutant", () => {
  test("is a function of the seed and the index alone", () => {
    const a = mutant(PLAN, 7, 42);
    expect(mutant(PLAN, 7, 42)).toEqual(a);
    expect([mutant(PLAN, 8, 42).bytes, mutant(PLAN, 7, 43).bytes]).not.toContainEqual(a.bytes);
  });

  test("over a few hundred indices, uses every mutation and changes the plan almost always", () => {
    const kinds = new Set<string>();
    let unchanged = 0;
    for (let i = 0; i < 500; i++) {
      const m = mutant(PLAN, 1, i);
      for (const k of m.kinds) kinds.add(k);
      if (Buffer.from(m.bytes).equals(Buffer.from(PLAN))) unchanged++;
    }
    expect([...kinds].sort()).toEqual(Object.keys(MUTATORS).sort());
    expect(unchanged).toBeLessThan(25);
  });
});

describe("MUTATORS", () => {
  test("each takes an empty plan (an earlier mutation may leave nothing) without throwing", () => {
    for (const [kind, mutate] of Object.entries(MUTATORS)) {
      for (let seed = 1; seed <= 20; seed++) expect({ kind, bytes: mutate(new Uint8Array(0), seededRandom(seed)) instanceof Uint8Array }).toEqual({ kind, bytes: true });
    }
  });
});

describe("seededRandom", () => {
  test("repeats for a seed and stays in [0, 1)", () => {
    const a = seededRandom(3);
    const b = seededRandom(3);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
