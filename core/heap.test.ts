import { expect, test } from "bun:test";
import { Heap } from "./heap.ts";

test("Heap › pops in order, whatever the push order", () => {
  const h = new Heap<number>((a, b) => a < b);
  const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
  for (const v of values) h.push(v);
  const out: number[] = [];
  while (h.size > 0) out.push(h.pop()!);
  expect(out).toEqual([...values].sort((a, b) => a - b));
  expect(h.pop()).toBeUndefined();
});

test("Heap › drain empties it", () => {
  const h = new Heap<number>((a, b) => a < b);
  [3, 1, 2].forEach((v) => h.push(v));
  expect(h.drain().sort()).toEqual([1, 2, 3]);
  expect(h.size).toBe(0);
});
