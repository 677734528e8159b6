/**
 * Linux device numbers: `stat().dev` packs major and minor into 64 bits
 * (glibc's gnu_dev_major/minor layout). BigInt, because the high bits do not
 * survive a JavaScript number.
 */
import fs from "node:fs";

export interface DevNo {
  major: number;
  minor: number;
}

export function splitDev(dev: bigint): DevNo {
  // glibc's `~0xfff` is a 32-bit unsigned mask; a BigInt `~` would keep every
  // higher bit and pull the major's top bits into the minor.
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

/** The inverse of splitDev; tests use it to fake stat results. */
export function makeDev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & 0xfffff000n) << 32n) | (mi & 0xffn) | ((mi & 0xffffff00n) << 12n);
}

export function formatDev(d: DevNo): string {
  return `${d.major}:${d.minor}`;
}

/**
 * `dev`: the device holding a file; `rdev`: the device a device node stands
 * for (/dev/sda2 → 8:2). Injectable so fixture tests need no real devices.
 */
export type StatDev = (path: string, field: "dev" | "rdev") => bigint;

export const realStatDev: StatDev = (path, field) => fs.statSync(path, { bigint: true })[field];
