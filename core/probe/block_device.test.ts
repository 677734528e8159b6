import { describe, expect, test } from "bun:test";
import path from "node:path";
import { resolveBlockDevice } from "./block_device.ts";
import { makeDev, type StatDev } from "./device_number.ts";

const FIXTURES = path.join(import.meta.dir, "../../fixtures/sysfs");

/** A fake tree plus a stat that says every path lives on MAJ:MIN (and device nodes/backing files as given). */
function fake(tree: string, major: number, minor: number, others: Record<string, [number, number]> = {}) {
  const statDev: StatDev = (p) => {
    const o = others[p];
    if (o) return makeDev(o[0], o[1]);
    if (p === "/work") return makeDev(major, minor);
    throw new Error(`ENOENT: ${p}`);
  };
  const root = path.join(FIXTURES, tree);
  return { sysRoot: root, procRoot: root, statDev };
}

describe("resolveBlockDevice", () => {
  test("NVMe namespace: queue facts, 8 hardware queues, model and serial from the controller", () => {
    const r = resolveBlockDevice("/work", fake("nvme", 259, 0));
    expect(r.devno).toBe("259:0");
    expect(r.problem).toBeUndefined();
    expect(r.disks).toHaveLength(1);
    expect(r.disks[0]).toMatchObject({
      name: "nvme0n1",
      driver: "nvme",
      nrRequests: 1023,
      rotational: false,
      scheduler: "none",
      hwQueues: 8,
      model: "Samsung SSD 980 PRO 1TB",
      serial: "S5GXNF0R123456",
    });
  });

  test("SATA disk: device/queue_depth and the sd driver link", () => {
    const r = resolveBlockDevice("/work", fake("sata_ssd", 8, 0));
    expect(r.disks[0]).toMatchObject({ name: "sda", driver: "scsi", driverLink: "sd", deviceQueueDepth: 32, nrRequests: 64, scheduler: "mq-deadline", logicalBlockSize: 512 });
  });

  test("a partition resolves to its parent disk", () => {
    const r = resolveBlockDevice("/work", fake("sata_ssd", 8, 1));
    expect(r.devno).toBe("8:1");
    expect(r.chain).toEqual(["sda1 is a partition of sda"]);
    expect(r.disks.map((d) => d.name)).toEqual(["sda"]);
  });

  test("device-mapper resolves through slaves/ to the member's disk", () => {
    const r = resolveBlockDevice("/work", fake("lvm", 253, 0));
    expect(r.chain).toEqual(["dm-0 is built on sda2", "sda2 is a partition of sda"]);
    expect(r.disks.map((d) => d.name)).toEqual(["sda"]);
  });

  test("loop resolves to the device of its backing file", () => {
    const r = resolveBlockDevice("/work", fake("loop", 7, 0, { "/var/lib/images/disk.img": [254, 0] }));
    expect(r.chain).toEqual(["loop0 is backed by /var/lib/images/disk.img on 254:0"]);
    expect(r.disks.map((d) => [d.name, d.driver, d.driverLink])).toEqual([["vda", "virtio", "virtio_blk"]]);
  });

  test("an unattached loop device is a problem, not a crash", () => {
    const r = resolveBlockDevice("/work", fake("loop", 7, 1));
    expect(r.disks).toEqual([]);
    expect(r.problem).toContain("loop1: no loop/backing_file");
  });

  test("xen disk: driver from the vbd link", () => {
    const r = resolveBlockDevice("/work", fake("xen", 202, 0));
    expect(r.disks[0]).toMatchObject({ name: "xvda", driver: "xen", rotational: false });
  });

  test("tmpfs, NFS, FUSE and overlay are reported as such, with no disk", () => {
    const cases: [number, string, string][] = [[45, "tmpfs", "memory"], [46, "nfs4", "network"], [47, "fuse.s3fs", "network"], [48, "overlay", "overlay"]];
    for (const [minor, type, kind] of cases) {
      const r = resolveBlockDevice("/work", fake("mounts", 0, minor));
      expect(r.filesystem).toMatchObject({ type, kind });
      expect(r.disks).toEqual([]);
      expect(r.problem).toContain(type);
    }
  });

  test("btrfs (anonymous 0:N) follows the device node named in mountinfo", () => {
    const r = resolveBlockDevice("/work", fake("mounts", 0, 49, { "/dev/sdc2": [8, 34] }));
    expect(r.filesystem).toMatchObject({ type: "btrfs", kind: "block", mountPoint: "/home" });
    expect(r.chain).toEqual(["btrfs on /dev/sdc2 (8:34)"]);
    expect(r.problem).toContain("no /sys/dev/block/8:34");
  });

  test("a missing tree gives no disk and a reason", () => {
    const r = resolveBlockDevice("/work", fake("does-not-exist", 8, 0));
    expect(r.disks).toEqual([]);
    expect(r.problem).toContain("no /sys/dev/block/8:0");
  });

  test("an unstattable path gives a reason", () => {
    const r = resolveBlockDevice("/nope", fake("nvme", 259, 0));
    expect(r.devno).toBeUndefined();
    expect(r.problem).toContain("cannot stat /nope");
  });
});
