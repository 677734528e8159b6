import { describe, expect, test } from "bun:test";
import { fsKind, mountForDevice, parseMountInfo } from "./mountinfo.ts";

describe("parseMountInfo", () => {
  test("reads device, root, mount point, type and source; unescapes octal", () => {
    const [a, b] = parseMountInfo([
      "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard",
      "45 27 0:50 /sub /mnt/my\\040disk rw - ext4 /dev/sdd1 rw",
      "garbage",
    ].join("\n"));
    expect(a).toMatchObject({ major: 254, minor: 0, root: "/", mountPoint: "/", fsType: "ext4", source: "/dev/vda", superOptions: ["rw", "discard"] });
    expect(b).toMatchObject({ major: 0, minor: 50, root: "/sub", mountPoint: "/mnt/my disk" });
  });

  test("mountForDevice: the last mount of a device wins", () => {
    const entries = parseMountInfo("1 0 8:1 / /a rw - ext4 /dev/sda1 rw\n2 0 8:1 / /b rw - ext4 /dev/sda1 rw");
    expect(mountForDevice(entries, 8, 1)?.mountPoint).toBe("/b");
    expect(mountForDevice(entries, 8, 2)).toBeUndefined();
  });
});

describe("fsKind", () => {
  test("classifies memory, network, overlay and block filesystems", () => {
    expect(fsKind("tmpfs")).toBe("memory");
    expect(fsKind("nfs4", "srv:/x")).toBe("network");
    expect(fsKind("cifs")).toBe("network");
    expect(fsKind("fuse.sshfs")).toBe("network");
    expect(fsKind("overlay")).toBe("overlay");
    expect(fsKind("ext4", "/dev/vda")).toBe("block");
    expect(fsKind("zfs", "tank/home")).toBe("other");
  });
});
