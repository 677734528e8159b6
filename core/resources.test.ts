/**
 * CPU, I/O and memory pools, checked from real runs: the device class sets
 * the I/O depth, sequential readers run at their own smaller depth, and
 * memory admission holds new instances back.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { availableCores } from "./probe/cores.ts";
import type { RunStartEvent } from "./telemetry/events.ts";
import { intervals, maxOverlap, runPlanText } from "./test_helpers.ts";

const sleeps = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(",")}]`;

describe("resource pools", () => {
  test("cpu tokens default to every core fanout may use: commands declared cpu: 1 run that many at once, by their own clocks", async () => {
    const cores = availableCores();
    const log = await runPlanText(`
version: 1
tasks:
  - { name: cc, module: shell, resources: { cpu: 1 }, items: ${sleeps(4)}, with: { shell: true, cmd: 's=$(date +%s%N); sleep 0.3; echo "$s $(date +%s%N)" >> spans' } }
`);
    const start = log.events[0] as RunStartEvent;
    expect(start.tokens.cpu).toBe(cores);
    expect(start.parallelism).toMatchObject({ cpu_tokens: cores, cpu_reason: expect.stringContaining(`the ${cores} core`) });
    const spans = readFileSync(join(log.dir, "spans"), "utf8").trim().split("\n").map((l) => {
      const [a, b] = l.split(" ").map(Number);
      return { start: a!, end: b! };
    });
    expect(maxOverlap(spans)).toBe(Math.min(cores, 4));
  });

  test("cpu tokens bound instances that need them; others run beside them", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 8
resources: { cpu_tokens: 2 }
tasks:
  - { name: crunch, module: sleep, resources: { cpu: 1 }, items: ${sleeps(6)}, with: { duration: 15ms } }
  - { name: wait, module: sleep, items: ${sleeps(6)}, with: { duration: 15ms }, needs: [] }
`);
    const all = intervals(log.events);
    expect(maxOverlap(all.filter((i) => i.start_event.task === "crunch"))).toBe(2);
    expect(maxOverlap(all)).toBeGreaterThan(2);
  });

  test("a need larger than the pool is capped: it runs alone instead of never", async () => {
    const log = await runPlanText(`
version: 1
resources: { cpu_tokens: 2 }
tasks:
  - { name: big, module: sleep, resources: { cpu: 16 }, items: [1, 2], with: { duration: 5ms } }
`);
    expect(log.exitCode).toBe(0);
    expect(maxOverlap(intervals(log.events))).toBe(1);
  });

  test("on an hdd, sequential readers run one at a time and random ones four at a time", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 16
resources: { storage_type: hdd }
tasks:
  - { name: seq, module: sleep, resources: { io: 1, io_pattern: sequential }, items: ${sleeps(6)}, with: { duration: 15ms } }
  - { name: rnd, module: sleep, resources: { io: 1 }, items: ${sleeps(12)}, with: { duration: 15ms } }
`);
    const start = log.events[0] as { tokens: { io: number }; parallelism: Record<string, unknown> };
    expect(start.tokens.io).toBe(4);
    expect(start.parallelism.storage_type).toBe("hdd");
    const all = intervals(log.events);
    expect(maxOverlap(all.filter((i) => i.start_event.task === "seq"))).toBe(1);
    expect(maxOverlap(all.filter((i) => i.start_event.task === "rnd"))).toBe(4);
  });

  test("given io tokens are the depth for every pattern", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 16
resources: { storage_type: hdd, io_tokens: 3 }
tasks:
  - { name: seq, module: sleep, resources: { io: 1, io_pattern: sequential }, items: ${sleeps(9)}, with: { duration: 15ms } }
`);
    expect(maxOverlap(intervals(log.events))).toBe(3);
  });

  test("declared memory: instances start only while their sum fits the budget", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 8
resources: { mem_budget: 1GiB }
tasks:
  - { name: load, module: sleep, resources: { mem: 400MiB }, items: ${sleeps(6)}, with: { duration: 15ms } }
`);
    expect(maxOverlap(intervals(log.events))).toBe(2);
    expect(log.end.summary.guards.mem!.capacity).toBe(2 ** 30);
  });

  test("--mem-free above what any machine has: one at a time, never stuck", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 4
tasks:
  - { name: s, module: sleep, items: ${sleeps(4)}, with: { duration: 10ms } }
`, { memFree: 2 ** 60 });
    expect(log.exitCode).toBe(0);
    expect(maxOverlap(intervals(log.events))).toBe(1);
    expect(log.starts.every((s) => s.guards.includes("mem_free"))).toBe(true);
  });
});

describe("I/O pools per device", () => {
  test("a task whose glob lives on another device reads from that device's own pool", async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    // /dev/shm is tmpfs: always a different device from the plan's temp directory on disk.
    const data = mkdtempSync("/dev/shm/fanout-pool-");
    for (const name of ["a.txt", "b.txt"]) writeFileSync(`${data}/${name}`, name);
    const log = await runPlanText(`
version: 1
tasks:
  - { name: sum, module: checksum, items_from: { glob: "${data}/*.txt" }, with: { path: "{{ item }}" } }
  - { name: local, module: sleep, resources: { io: 1 }, with: { duration: 1ms }, needs: [] }
`).finally(() => rmSync(data, { recursive: true, force: true })); // tmpfs is memory: leave nothing behind
    expect(log.exitCode).toBe(0);
    const start = log.events[0] as { io_pools: Record<string, { storage_type: string }> };
    const pools = Object.keys(start.io_pools);
    expect(pools.length).toBe(2);
    expect(pools[0]).toBe("io");
    const other = pools[1]!;
    expect(other).toMatch(/^io:/);
    expect(log.starts.filter((s) => s.task === "sum").every((s) => s.guards.includes(other))).toBe(true);
    expect(log.starts.find((s) => s.task === "local")!.guards).toEqual(["io"]);
  });
});

describe("calibration", () => {
  test("a cached calibration of the plan's device sets the I/O depth of later runs", async () => {
    const { probeDevice } = await import("./probe/device_probe.ts");
    const { writeCalibration } = await import("./probe/calibration_cache.ts");
    const { tempDir } = await import("./test_helpers.ts");
    const cache = tempDir("fanout-cache-");
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    try {
      const planDir = tempDir();
      const key = probeDevice(planDir).calibrationKey;
      expect(key).toBeDefined();
      writeCalibration({
        key: key!, measuredAt: new Date(0).toISOString(), path: planDir, fileBytes: 1, blockBytes: 65536, direct: true,
        budgetMs: 1, points: [], knee: 7, bestDepth: 7, notes: [],
      });
      const log = await runPlanText(`version: 1\ntasks:\n  - { name: a, module: debug, resources: { io: 1 }, with: { message: x } }\n`);
      const start = log.events[0] as RunStartEvent;
      expect(start.tokens.io).toBe(7);
      expect(String(start.parallelism.io_reason)).toContain("calibrated");
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});
