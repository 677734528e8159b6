import { describe, expect, test } from "bun:test";
import type { GuardLive } from "../../guards/guard_usage.ts";
import { bottleneck, guardRows, HOST_ROWS, waitedMost } from "./rows.ts";

const g = (name: string, kind: GuardLive["kind"], over: Partial<GuardLive> = {}): GuardLive =>
  ({ name, kind, capacity: 1, inUse: 0, queue: 0, acquisitions: 0, waitedMs: 0, waitP50: 0, waitP95: 0, ...over });

describe("guardRows", () => {
  test("forks, cpu, buckets, global locks and groups always; I/O and memory once used; only the busiest host locks", () => {
    const hosts = Array.from({ length: 6 }, (_, i) => g(`host:h${i}`, "host", { inUse: i % 2, queue: i }));
    const { rows, hiddenHosts } = guardRows([
      ...hosts, g("host:idle", "host"), g("io", "io"), g("io:vdb", "io", { acquisitions: 2 }), g("mem", "mem"),
      g("group:builds", "group"), g("global:default", "global"), g("bucket:http", "bucket"), g("cpu", "cpu"), g("forks", "forks"),
    ]);
    expect(rows.map((r) => r.name)).toEqual(["forks", "cpu", "io:vdb", "bucket:http", "global:default", "group:builds", "host:h5", "host:h4", "host:h3"]);
    expect(HOST_ROWS).toBe(3);
    // h1..h5 are busy (h0 has nothing in use and no queue); three are shown.
    expect(hiddenHosts).toBe(2);
  });
});

describe("bottleneck", () => {
  test("the longest queue, ties to the longer recent p95 wait; none when nothing waits", () => {
    expect(bottleneck([g("forks", "forks", { queue: 2 }), g("host:a", "host", { queue: 5, waitP95: 1 }), g("host:b", "host", { queue: 5, waitP95: 9 })])?.name).toBe("host:b");
    expect(bottleneck([g("forks", "forks"), g("cpu", "cpu", { inUse: 1 })])).toBeUndefined();
  });
});

describe("waitedMost", () => {
  test("the most wait in all; none when no one waited", () => {
    expect(waitedMost([g("forks", "forks", { waitedMs: 5 }), g("bucket:x", "bucket", { waitedMs: 50 })])?.name).toBe("bucket:x");
    expect(waitedMost([g("forks", "forks")])).toBeUndefined();
  });
});
