/** The probe over ssh, against a real sshd on this machine: it must conclude exactly what the local probe concludes. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { coreDetails } from "../probe/cores.ts";
import { probeDevice } from "../probe/device_probe.ts";
import { tempDir } from "../test_helpers.ts";
import { startSshd, type TestSshd } from "../test_sshd.ts";
import { parseSnapshot, probeHost, type RemoteProbeReport, RemoteProbes } from "./remote_probe.ts";
import { sshdTarget } from "./test_target.ts";

let sshd: TestSshd;
// startSshd waits for a real login: slow on a loaded machine.
beforeAll(async () => {
  sshd = await startSshd();
}, 60_000);
afterAll(() => sshd?.stop());

test("probeHost on this very machine concludes what the local probe does: disk, class, depths, cores", async () => {
  const dir = tempDir("fanout-remote-probe-");
  const remote = await probeHost(sshdTarget(sshd), dir);
  // The calibration cache is this machine's and never applies remotely; the rest must match field for field.
  const { calibration: _c, calibrationKey: _k, ...local } = probeDevice(dir, { env: { XDG_CACHE_HOME: tempDir() } });
  const { calibration: _rc, calibrationKey: _rk, ...seen } = remote.device;
  expect(seen).toEqual(local);
  expect(remote.device.resolution.disks.length + (remote.device.resolution.problem ? 1 : 0)).toBeGreaterThan(0);
  expect(remote.path).toBe(local.resolution.path);
  const cores = coreDetails();
  expect([remote.cores.cores, remote.cores.allowed, remote.cores.quota]).toEqual([cores.cores, cores.allowed, cores.quota]);
  expect(remote.cores.reason).not.toContain("navigator.hardwareConcurrency");
  expect(remote.memory.bytes).toBeGreaterThan(0);
}, 120_000);

test("a path that does not exist on the host is an error naming host and path", async () => {
  await expect(probeHost(sshdTarget(sshd, "web2"), "/no/such/dir")).rejects.toThrow("probe of web2: /no/such/dir does not exist there");
}, 120_000);

test("parseSnapshot keeps file bodies whole, links, stats and nproc", () => {
  const s = parseSnapshot("@@nproc 8\n@@path /home/a b\n@@stat 2049 /home/a b\n@@F /proc/meminfo\nMemAvailable: 10 kB\nX: 1\n\n@@D /sys/devices/x/mq/0\n@@S /sys/dev/block/8:0 /sys/devices/x\n@@L /sys/devices/x/device/driver ../../sd\n");
  expect(s.nproc).toBe(8);
  expect(s.path).toBe("/home/a b");
  expect(s.dev.get("/home/a b")).toBe(2049n);
  expect(s.files.get("/proc/meminfo")).toBe("MemAvailable: 10 kB\nX: 1\n");
  expect([...s.dirs]).toEqual(["/sys/devices/x/mq/0"]);
  expect(s.follow.get("/sys/dev/block/8:0")).toBe("/sys/devices/x");
  expect(s.links.get("/sys/devices/x/device/driver")).toBe("../../sd");
});

test("RemoteProbes probes each host once and shares the answer", async () => {
  const calls: string[] = [];
  const probes = new RemoteProbes(async (target) => {
    calls.push(target.name);
    return { path: "/", cores: { cores: target.name.length } } as RemoteProbeReport;
  });
  const a = sshdTarget(sshd, "web1");
  const b = sshdTarget(sshd, "db");
  const answers = await Promise.all([probes.of(a), probes.of(b), probes.of(a), probes.of(a)]);
  expect(answers.map((r) => r.cores.cores)).toEqual([4, 2, 4, 4]);
  expect(calls).toEqual(["web1", "db"]);
});
