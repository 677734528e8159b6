/**
 * What the file benchmarks share: data sets of real (not sparse) files on
 * the scratch disk, a checksum plan over them, and dropping the page cache
 * between runs when the kernel lets us, so each run reads from the device
 * rather than from memory.
 */
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { writeFile } from "./lib.ts";

export interface FileSpec {
  name: string;
  bytes: number;
}

const BLOCK = 1024 * 1024;

/**
 * Writes every file from one random block (hashing cost does not depend on
 * the bytes, and the disk does not deduplicate), then syncs so writeback
 * does not run into the first measurement. Returns the total size.
 */
export function writeDataSet(dir: string, files: FileSpec[]): number {
  const block = randomFillSync(Buffer.allocUnsafe(BLOCK));
  let total = 0;
  for (const [i, f] of files.entries()) {
    const fd = openSync(join(dir, f.name), "w");
    try {
      // Start each file at a different offset of the block, so no two files are equal.
      for (let done = 0, at = (i * 4099) % BLOCK; done < f.bytes;) {
        const n = Math.min(f.bytes - done, BLOCK - at);
        writeSync(fd, block, at, n);
        done += n;
        at = 0;
      }
    } finally {
      closeSync(fd);
    }
    total += f.bytes;
  }
  spawnSync("sync");
  return total;
}

function cachedKiB(): number {
  const m = /^Cached:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
  return m ? Number(m[1]) : NaN;
}

/**
 * Drops clean page-cache pages (needs root and a writable /proc/sys). True
 * only when the write succeeded and the cache visibly shrank.
 */
export function dropCaches(): boolean {
  spawnSync("sync");
  const before = cachedKiB();
  try {
    writeFileSync("/proc/sys/vm/drop_caches", "3");
  } catch {
    return false;
  }
  return cachedKiB() < before;
}

/** Reads every file once, so runs that cannot drop the cache all start equally warm. */
export function warmCache(dir: string): void {
  spawnSync("sh", ["-c", 'find "$0" -type f -exec cat {} + > /dev/null', dir]);
}

/** A plan checksumming every file under `dir` matching `glob`. */
export function checksumPlan(dir: string, glob: string, name = "checksum-bench"): string {
  return writeFile(dir, `${name}.yml`, `version: 1
name: ${name}
tasks:
  - name: sum
    module: checksum
    items_from: { glob: "${glob}" }
    with: { path: "{{ item }}" }
`);
}
