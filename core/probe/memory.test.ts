import { describe, expect, test } from "bun:test";
import path from "node:path";
import { memoryAvailable } from "./memory.ts";

const FIXTURES = path.join(import.meta.dir, "../../fixtures/sysfs");
const roots = (tree: string) => ({ sysRoot: path.join(FIXTURES, tree), procRoot: path.join(FIXTURES, tree) });
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe("memoryAvailable", () => {
  test("cgroup v2: parent's 1 GiB limit minus (512 MiB used − 128 MiB inactive cache)", () => {
    const m = memoryAvailable(roots("cgroup_v2"));
    expect(m).toMatchObject({ bytes: 640 * MiB, source: "cgroup v2", memAvailable: 8 * GiB, cgroupLimit: GiB, cgroupUsage: 512 * MiB });
    expect(m.reason).toContain("user.slice/memory.max");
  });

  test("cgroup v1: 2 GiB − (1.5 GiB − 0.5 GiB) = 1 GiB; the unlimited root is ignored", () => {
    const m = memoryAvailable(roots("cgroup_v1"));
    expect(m).toMatchObject({ bytes: GiB, source: "cgroup v1", memAvailable: 4 * GiB });
  });

  test("no cgroup limit: MemAvailable", () => {
    const m = memoryAvailable(roots("cgroup_unlimited"));
    expect(m).toMatchObject({ bytes: 2 * GiB, source: "meminfo", cgroupLimit: undefined });
  });

  test("no /proc: os.freemem(), with a reason", () => {
    const m = memoryAvailable(roots("does-not-exist"));
    expect(m.source).toBe("os.freemem");
    expect(m.bytes).toBeGreaterThan(0);
  });

  test("on this machine: a positive number no larger than MemAvailable when that is readable", () => {
    const m = memoryAvailable();
    expect(m.bytes).toBeGreaterThan(0);
    if (m.memAvailable !== undefined) expect(m.bytes).toBeLessThanOrEqual(m.memAvailable);
  });
});
