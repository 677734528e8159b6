/**
 * From samples to the figures the whole-process benchmark prints: medians
 * (core/stats percentiles), ratios that are null when a side is missing,
 * goals that are null when they cannot be judged, and the peak RSS line of
 * `/usr/bin/time -v`. Pure, so each can be tested without timing anything.
 */
import { percentiles } from "../../core/stats.ts";

/** A measured figure, or null when it could not be measured (the reason is kept beside it). */
export type Figure = number | null;

/** The median of a sample (nearest rank); null for none. */
export function median(samples: ArrayLike<number>): Figure {
  return samples.length === 0 ? null : percentiles(samples).p50;
}

/** a ÷ b to 0.01; null when either is missing or b is not positive. */
export function ratio(a: Figure, b: Figure): Figure {
  if (a === null || b === null || !(b > 0)) return null;
  return Math.round((a / b) * 100) / 100;
}

/** `value` scaled (ms → s, or per task), rounded to `digits`; null stays null. */
export function per(value: Figure, divisor: number, digits = 3): Figure {
  if (value === null) return null;
  const f = 10 ** digits;
  return Math.round((value / divisor) * f) / f;
}

/**
 * Whether every bound holds: each check is [figure, limit], met when
 * figure ≤ limit. Null when a figure is missing: a goal that cannot be
 * judged is not met and not missed.
 */
export function atMost(...checks: Array<[Figure, number | Figure]>): boolean | null {
  let met = true;
  for (const [figure, limit] of checks) {
    if (figure === null || limit === null) return null;
    if (!(figure <= limit)) met = false;
  }
  return met;
}

/** "Maximum resident set size (kbytes): N" from `/usr/bin/time -v`, in bytes; undefined when absent. */
export function parseTimeVMaxRss(stderr: string): number | undefined {
  const m = /^\s*Maximum resident set size \(kbytes\):\s*(\d+)\s*$/m.exec(stderr);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Bytes to MB (2^20), one decimal. */
export function mb(bytes: Figure): Figure {
  return bytes === null ? null : Math.round((bytes / 2 ** 20) * 10) / 10;
}
