/** The checksum module: digests against coreutils, plans over globs, bounded memory, aborts. */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { closeSync, ftruncateSync, openSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadPlan } from "../core/plan/load.ts";
import type { FanoutEvent, RunEndEvent, TaskEndEvent } from "../core/telemetry/events.ts";
import checksum from "./checksum.ts";
import { idleBuffers } from "./lib/buffer_pool.ts";
import { bareContext, EDGE_SIZES, releaseFifoReaders, removeScratchDirs, runPlanIn, scratchDir, specialFiles, toolDigest, within, writeRandomFiles } from "./lib/test_files.ts";

const ROOT = resolve(import.meta.dir, "..");

const GLOB_PLAN = (algorithm = "sha256") => `version: 1
tasks:
  - name: sum
    module: checksum
    items_from: { glob: "data/*.csv" }
    with: { path: "{{ item }}", algorithm: ${algorithm} }
`;

const sum = (sizes: Record<string, number>) => Object.values(sizes).reduce((a, b) => a + b, 0);

afterAll(removeScratchDirs);

describe("checksum module", () => {
  test("a glob plan gives sha256sum's digest for empty, 1 byte, one buffer, buffer+1 and several MiB; summary bytes = total size", async () => {
    const dir = scratchDir();
    const paths = writeRandomFiles(join(dir, "data"), EDGE_SIZES);
    const { code, ends, end } = await runPlanIn(dir, GLOB_PLAN());
    expect(code).toBe(0);
    expect(ends.length).toBe(Object.keys(EDGE_SIZES).length);
    for (const e of ends) {
      const name = String(e.item).split("/").pop()!;
      expect(e.data).toEqual({ path: paths[name], bytes: EDGE_SIZES[name], digest: toolDigest("sha256sum", paths[name]!), algorithm: "sha256" });
      expect([e.status, e.changed, e.bytes]).toEqual(["ok", false, EDGE_SIZES[name]!]);
    }
    expect(end.summary.bytes).toBe(sum(EDGE_SIZES));
  });

  test("sha512, blake2b512, sha1 and md5 match sha512sum, b2sum, sha1sum and md5sum", async () => {
    const dir = scratchDir();
    const paths = writeRandomFiles(dir, EDGE_SIZES);
    const tools = { sha512: "sha512sum", blake2b512: "b2sum", sha1: "sha1sum", md5: "md5sum" } as const;
    for (const [algorithm, tool] of Object.entries(tools)) {
      for (const path of Object.values(paths)) {
        const result = await checksum.run({ path, algorithm: algorithm as keyof typeof tools }, bareContext(dir));
        expect([algorithm, result && result.data?.digest]).toEqual([algorithm, toolDigest(tool, path)]);
      }
    }
  });

  test("through the real CLI: task_end digests and the summary's bytes", () => {
    const dir = scratchDir();
    const sizes = { "a.csv": 3, "b.csv": 300_000, "c.csv": 1_000_001 };
    const paths = writeRandomFiles(join(dir, "data"), sizes);
    writeFileSync(join(dir, "plan.yml"), GLOB_PLAN());
    const r = spawnSync(process.execPath, ["--no-install", join(ROOT, "cli.ts"), "run", join(dir, "plan.yml"), "--json", "--quiet"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as FanoutEvent);
    const digests = Object.fromEntries(events.filter((e): e is TaskEndEvent => e.type === "task_end").map((e) => [e.item, e.data.digest]));
    expect(digests).toEqual(Object.fromEntries(Object.values(paths).map((p) => [p, toolDigest("sha256sum", p)])));
    const end = events.find((e): e is RunEndEvent => e.type === "run_end")!;
    expect(end.summary.bytes).toBe(sum(sizes));
  });

  test("memory stays bounded: a 200 MiB file grows RSS by far less than its size", async () => {
    const dir = scratchDir();
    const path = join(dir, "big.bin");
    const size = 200 * 1024 * 1024;
    // Sparse: costs no disk, reads back as zeros, and is still 200 MiB to stream.
    const fd = openSync(path, "w");
    ftruncateSync(fd, size);
    closeSync(fd);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 1);
    try {
      const result = await checksum.run({ path, algorithm: "sha256" }, bareContext(dir));
      expect(result && result.data?.digest).toBe(toolDigest("sha256sum", path));
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(peak - before).toBeLessThan(size / 4);
  });

  test("an aborted signal stops it before reading, and every buffer goes back to the pool", async () => {
    const dir = scratchDir();
    const { f } = writeRandomFiles(dir, { f: 1024 * 1024 });
    const idle = idleBuffers();
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(checksum.run({ path: f!, algorithm: "sha256" }, bareContext(dir, controller.signal))).rejects.toThrow("stop");
    await checksum.run({ path: f!, algorithm: "sha256" }, bareContext(dir));
    expect(idleBuffers()).toBe(Math.max(idle, 1));
  });

  test("a directory fails with a message naming it; an unknown algorithm is a plan error", async () => {
    const dir = scratchDir();
    await expect(checksum.run({ path: dir, algorithm: "sha256" }, bareContext(dir))).rejects.toThrow(`${dir}: not a regular file`);
    writeFileSync(join(dir, "plan.yml"), GLOB_PLAN("sha3"));
    await expect(loadPlan(join(dir, "plan.yml"))).rejects.toThrow("expected algorithm one of sha256, sha512, blake2b512, sha1, md5");
  });

  test("a FIFO, a socket and a device fail at once with 'not a regular file': nothing blocks", async () => {
    const dir = scratchDir();
    const special = await specialFiles(dir);
    try {
      const plan = `version: 1\ntasks:\n  - { name: sum, module: checksum, items: ${JSON.stringify([special.fifo, special.socket, special.device])}, with: { path: "{{ item }}" } }\n`;
      const { code, ends, end } = await within(10_000, "checksum of a FIFO, a socket and a device", runPlanIn(dir, plan));
      expect(code).toBe(1);
      expect(Object.fromEntries(ends.map((e) => [e.item, [e.status, e.error]]))).toEqual({
        [special.fifo]: ["failed", `${special.fifo}: not a regular file (a FIFO)`],
        [special.socket]: ["failed", `${special.socket}: not a regular file (a socket)`],
        [special.device]: ["failed", "/dev/zero: not a regular file (a device)"],
      });
      expect(end.summary.failed).toBe(3);
    } finally {
      releaseFifoReaders(special.fifo);
      special.close();
    }
  }, 20_000);
});
