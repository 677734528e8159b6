import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { calibrationKey, writeCalibration } from "./calibration_cache.ts";
import { makeDev, realStatDev, splitDev } from "./device_number.ts";
import { cachedCalibration, forgetDeviceCalibration, probeDevice } from "./device_probe.ts";

const FIXTURES = path.join(import.meta.dir, "../../fixtures/sysfs");
const cache = fs.mkdtempSync(path.join(os.tmpdir(), "fanout-probe-cache-"));
afterAll(() => fs.rmSync(cache, { recursive: true, force: true }));

describe("probeDevice on this machine", () => {
  test("derives a class consistent with what sysfs shows for the disk under the working directory", () => {
    const p = probeDevice(".", { env: { XDG_CACHE_HOME: cache } });
    const { major, minor } = splitDev(realStatDev(".", "dev"));
    expect(p.resolution.devno).toBe(`${major}:${minor}`);
    expect(p.recommended.random.depth).toBeGreaterThanOrEqual(1);
    expect(p.recommended.sequential.depth).toBeLessThanOrEqual(p.recommended.random.depth);
    if (p.resolution.disks.length === 0) {
      expect(p.class).toBe("unknown");
      expect(p.reason.length).toBeGreaterThan(0);
      return;
    }
    const disk = p.resolution.disks[0]!;
    // Read the same flags straight from sysfs and apply the documented rules.
    const sys = (rel: string) => fs.readFileSync(`/sys/dev/block/${disk.devno}/${rel}`, "utf8").trim();
    if (/^(vd|xvd)/.test(disk.name)) {
      expect(p.class).toBe("virtual");
      expect(p.assumptions.join(" ")).toContain(`rotational=${sys("queue/rotational")}`);
    } else if (p.class === "virtual") {
      // Emulated SCSI/NVMe disks, zram and network block devices say so in their reason.
      expect(p.reason).toMatch(/emulated|network block|zram/);
    } else if (p.resolution.disks.length === 1) {
      const rotational = sys("queue/rotational") === "1";
      expect(p.class).toBe(disk.name.startsWith("nvme") ? "nvme" : rotational ? "hdd" : "ssd");
    }
    expect(disk.nrRequests).toBe(Number(sys("queue/nr_requests")));
  });
});

describe("probeDevice on fake trees", () => {
  const root = path.join(FIXTURES, "sata_ssd");
  const opts = { sysRoot: root, procRoot: root, statDev: () => makeDev(8, 1), env: { XDG_CACHE_HOME: cache } };

  test("recommends per pattern, capped by the device's queue depth where it applies", () => {
    const p = probeDevice("/data", opts);
    expect(p.class).toBe("ssd");
    expect(p.recommended.random.depth).toBe(12);
    expect(p.recommended.sequential.depth).toBe(4);
    expect(p.calibrationKey).toBe(calibrationKey("8:0", { model: "Samsung SSD 870" }));
    expect(p.calibration).toBeUndefined();
  });

  test("a cached calibration is found and its knee becomes the random depth", () => {
    const key = calibrationKey("8:0", { model: "Samsung SSD 870" });
    writeCalibration({
      key, measuredAt: "2025-01-01T00:00:00.000Z", path: "/data", fileBytes: 1, blockBytes: 1, direct: true, budgetMs: 1,
      points: [{ depth: 16, mibPerSec: 1, reads: 1, ms: 1 }], knee: 16, bestDepth: 16, notes: [],
    }, { env: opts.env });
    expect(cachedCalibration("/data", opts)?.knee).toBe(16);
    const p = probeDevice("/data", opts);
    expect(p.recommended.random).toMatchObject({ depth: 16 });
    expect(p.recommended.random.reason).toContain("calibrated");
  });

  test("forgetDeviceCalibration removes the cached calibration of the disk under the path, and only that", () => {
    const key = calibrationKey("8:0", { model: "Samsung SSD 870" });
    const other = calibrationKey("259:0", { model: "Other" });
    for (const k of [key, other]) {
      writeCalibration({
        key: k, measuredAt: "2025-01-01T00:00:00.000Z", path: "/data", fileBytes: 1, blockBytes: 1, direct: true, budgetMs: 1,
        points: [{ depth: 16, mibPerSec: 1, reads: 1, ms: 1 }], knee: 16, bestDepth: 16, notes: [],
      }, { env: opts.env });
    }
    const file = path.join(cache, "fanout", `calibration-${key}.json`);
    expect(forgetDeviceCalibration("/data", opts)).toEqual({ calibrationKey: key, removed: file });
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(path.join(cache, "fanout", `calibration-${other}.json`))).toBe(true);
    expect(probeDevice("/data", opts).recommended.random.depth).toBe(12);
    expect(forgetDeviceCalibration("/data", opts)).toEqual({ calibrationKey: key, removed: undefined });
  });

  test("a missing tree: unknown, moderate depth, never a throw", () => {
    const missing = path.join(FIXTURES, "does-not-exist");
    const p = probeDevice("/data", { ...opts, sysRoot: missing, procRoot: missing });
    expect(p.class).toBe("unknown");
    expect(p.recommended.random.depth).toBe(8);
    expect(p.reason).toContain("/sys/dev/block/8:1");
  });
});
