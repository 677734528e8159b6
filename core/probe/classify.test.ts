import { describe, expect, test } from "bun:test";
import path from "node:path";
import { resolveBlockDevice } from "./block_device.ts";
import { BASE_DEPTH, classify, type DeviceClass, recommendDepth } from "./classify.ts";
import { makeDev } from "./device_number.ts";

const FIXTURES = path.join(import.meta.dir, "../../fixtures/sysfs");

function classOf(tree: string, major: number, minor: number, others: Record<string, [number, number]> = {}) {
  const root = path.join(FIXTURES, tree);
  const statDev = (p: string) => (others[p] ? makeDev(...others[p]!) : makeDev(major, minor));
  return classify(resolveBlockDevice("/work", { sysRoot: root, procRoot: root, statDev }));
}

describe("classify", () => {
  test("NVMe → nvme, SATA rotational=0 → ssd, rotational=1 → hdd", () => {
    expect(classOf("nvme", 259, 0).class).toBe("nvme");
    expect(classOf("sata_ssd", 8, 0)).toMatchObject({ class: "ssd", reason: "sda: queue/rotational=0" });
    expect(classOf("hdd", 8, 16)).toMatchObject({ class: "hdd", reason: "sdb: queue/rotational=1" });
  });

  test("virtio vda claiming to spin is virtual, and says the flag was ignored", () => {
    const c = classOf("virtio", 254, 0);
    expect(c.class).toBe("virtual");
    expect(c.assumptions.join(" ")).toContain("ignored queue/rotational=1");
  });

  test("xen xvda claiming rotational=0 is virtual, not ssd", () => {
    const c = classOf("xen", 202, 0);
    expect(c.class).toBe("virtual");
    expect(c.assumptions.join(" ")).toContain("ignored queue/rotational=0");
  });

  test("partition, dm and loop take the class of the disk underneath", () => {
    expect(classOf("sata_ssd", 8, 1).class).toBe("ssd");
    expect(classOf("lvm", 253, 0).class).toBe("ssd");
    expect(classOf("loop", 7, 0, { "/var/lib/images/disk.img": [254, 0] }).class).toBe("virtual");
  });

  test("no tree, tmpfs, or NFS → unknown with the reason", () => {
    expect(classOf("does-not-exist", 8, 0)).toMatchObject({ class: "unknown" });
    expect(classOf("does-not-exist", 8, 0).reason).toContain("/sys/dev/block/8:0");
    expect(classOf("mounts", 0, 45).reason).toBe("tmpfs at /scratch (memory)");
    expect(classOf("mounts", 0, 46).reason).toBe("nfs4 at /mnt/share (network)");
  });
});

describe("recommendDepth", () => {
  test("starting points: nvme 24, ssd 12, hdd 4, virtual 12 for random reads", () => {
    expect(recommendDepth("nvme", "random").depth).toBe(24);
    expect(recommendDepth("ssd", "random").depth).toBe(12);
    expect(recommendDepth("hdd", "random").depth).toBe(4);
    expect(recommendDepth("virtual", "random").depth).toBe(12);
  });

  test("sequential is never deeper than random, shallower on physical disks, and hdd sequential is 1 or 2", () => {
    for (const cls of Object.keys(BASE_DEPTH) as DeviceClass[]) {
      expect(recommendDepth(cls, "sequential").depth).toBeLessThanOrEqual(recommendDepth(cls, "random").depth);
    }
    for (const cls of ["nvme", "ssd", "hdd"] as DeviceClass[]) {
      expect(recommendDepth(cls, "sequential").depth).toBeLessThan(recommendDepth(cls, "random").depth);
    }
    expect(recommendDepth("hdd", "sequential").depth).toBeLessThanOrEqual(2);
  });

  test("flash is capped by device/queue_depth; disks are not (the elevator still sorts)", () => {
    expect(recommendDepth("ssd", "random", { deviceQueueDepth: 1 })).toMatchObject({ depth: 1 });
    expect(recommendDepth("ssd", "random", { deviceQueueDepth: 1 }).reason).toContain("device/queue_depth=1");
    expect(recommendDepth("ssd", "random", { deviceQueueDepth: 32 }).depth).toBe(12);
    expect(recommendDepth("hdd", "random", { deviceQueueDepth: 1 }).depth).toBe(4);
  });

  test("a calibrated knee replaces the random guess and caps the sequential one", () => {
    expect(recommendDepth("virtual", "random", { calibratedKnee: 16 }).depth).toBe(16);
    expect(recommendDepth("nvme", "sequential", { calibratedKnee: 4 }).depth).toBe(4);
    expect(recommendDepth("nvme", "sequential", { calibratedKnee: 32 }).depth).toBe(8);
  });

  test("every advice has a reason", () => {
    for (const cls of Object.keys(BASE_DEPTH) as DeviceClass[]) {
      for (const p of ["random", "sequential"] as const) expect(recommendDepth(cls, p).reason.length).toBeGreaterThan(10);
    }
  });
});
