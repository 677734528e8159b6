import { describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import path from "node:path";
import { availableCores, coreDetails, countCpuList } from "./cores.ts";

const FIXTURES = path.join(import.meta.dir, "../../fixtures/sysfs");
const roots = (tree: string) => ({ sysRoot: path.join(FIXTURES, tree), procRoot: path.join(FIXTURES, tree) });

describe("countCpuList", () => {
  test("counts ranges and singles; rejects garbage", () => {
    expect(countCpuList("0-3,8,10-11")).toBe(7);
    expect(countCpuList("0")).toBe(1);
    expect(countCpuList("a-b")).toBeUndefined();
  });
});

describe("coreDetails", () => {
  test("cgroup v2: the tightest cpu.max along the chain (parent 1.5 CPUs) rounds up to 2", () => {
    const d = coreDetails({ ...roots("cgroup_v2"), osCores: 16 });
    expect(d).toMatchObject({ cores: 2, os: 16, allowed: 8, quota: 1.5 });
    expect(d.quotaSource).toEndWith("sys/fs/cgroup/user.slice/cpu.max");
    expect(d.reason).toContain("cgroup quota 1.5 CPUs");
  });

  test("cgroup v1: cfs_quota_us/cfs_period_us = 3, below 4 allowed CPUs", () => {
    const d = coreDetails({ ...roots("cgroup_v1"), osCores: 8 });
    expect(d).toMatchObject({ cores: 3, allowed: 4, quota: 3 });
    expect(d.quotaSource).toEndWith("cpu,cpuacct/docker/abc/cpu.cfs_quota_us");
  });

  test("no quota (max): Cpus_allowed_list sets it", () => {
    const d = coreDetails({ ...roots("cgroup_unlimited"), osCores: 8 });
    expect(d).toMatchObject({ cores: 4, allowed: 4, quota: undefined });
    expect(d.reason).toContain("Cpus_allowed_list");
  });

  test("a missing tree falls back to the runtime's count with a reason", () => {
    const d = coreDetails({ ...roots("does-not-exist"), osCores: 6 });
    expect(d).toMatchObject({ cores: 6, allowed: undefined, quota: undefined });
    expect(d.reason).toContain("no cgroup quota or CPU list readable");
  });

  test("on this machine: at least 1, at most the runtime's count", () => {
    const n = availableCores();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(availableParallelism());
  });
});
