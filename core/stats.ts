import type { Percentiles } from "./telemetry/events.ts";

/** Nearest-rank percentiles of a sample; all zero for an empty one. */
export function percentiles(values: ArrayLike<number>): Percentiles {
  const n = values.length;
  if (n === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  // The constructor, not Float64Array.from: the same copy, without running that builtin for the first time (~0.5 ms of start-up).
  const sorted = new Float64Array(values as ArrayLike<number>).sort();
  const at = (p: number) => round(sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted[n - 1]!) };
}

/** Milliseconds to 0.001 (a microsecond): enough precision, shorter JSON. */
export function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** A growable array of float64 samples without per-element boxing. */
export class Samples {
  private data = new Float64Array(64);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
