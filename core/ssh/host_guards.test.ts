/** Per-host pools from real probes: two sshds, one whose sessions see a single CPU. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { GuardRequests } from "../guard_requests.ts";
import { GuardSet, releaseAll, tryAcquireAll } from "../guards/guard_set.ts";
import { loadPlanText } from "../plan/load.ts";
import { coreDetails } from "../probe/cores.ts";
import { probeDevice } from "../probe/device_probe.ts";
import { tempDir } from "../test_helpers.ts";
import { startSshd, type TestSshd } from "../test_sshd.ts";
import { addSshHostPools } from "./host_guards.ts";
import { sshdTarget } from "./test_target.ts";

let wide: TestSshd;
let narrow: TestSshd;
// startSshd waits for a real login: slow on a loaded machine.
beforeAll(async () => {
  [wide, narrow] = await Promise.all([startSshd(), startSshd({ wrap: ["taskset", "-c", "0"] })]);
}, 120_000);
afterAll(() => {
  wide?.stop();
  narrow?.stop();
});

test("two ssh hosts each get their own CPU pool sized from their probe, and an I/O pool per host and device; local hosts keep the run's pools", async () => {
  const guards = new GuardSet({ cpu: 7, io: [{ name: "io", capacity: 3, sequentialIoWeight: 1 }] });
  const hosts = new Map([["web1", sshdTarget(wide, "web1")], ["web2", sshdTarget(narrow, "web2")]]);
  const sized = await addSshHostPools(guards, hosts);

  const cores = coreDetails().cores;
  expect(cores).toBeGreaterThan(1); // else the two hosts could not differ here
  expect([guards.cpuFor("web1").name, guards.cpuFor("web1").capacity]).toEqual(["cpu:web1", cores]);
  expect([guards.cpuFor("web2").name, guards.cpuFor("web2").capacity]).toEqual(["cpu:web2", 1]);
  expect(guards.cpuFor("localhost")).toBe(guards.cpu);
  expect(guards.cpu.capacity).toBe(7);

  // The disk under the login directory, with the local probe's depth rules (it is this machine's disk).
  const home = probeDevice(sized.get("web1")!.path, { env: { XDG_CACHE_HOME: tempDir() } });
  const disk = home.resolution.disks[0]?.devno ?? home.resolution.devno;
  expect(sized.get("web1")!.io).toMatchObject({ name: `io:web1:${disk}`, tokens: home.recommended.random.depth });
  expect(guards.ioFor("web2", "io")!.guard.name).toBe(`io:web2:${disk}`);
  expect(guards.ioFor("localhost", "io")!.guard.capacity).toBe(3);

  // Through the requests an instance takes: each host its own guards.
  const plan = await loadPlanText(`version: 1
hosts: [web1, web2, localhost]
tasks:
  - { name: build, module: sleep, resources: { cpu: 1, io: 1 }, with: { duration: 1ms } }
`, "/tmp/plan.yml");
  const requests = new GuardRequests(guards);
  const of = (host: string) => requests.for(plan.tasks[0]!, { host, item: null, vars: {}, task: "build" });
  expect(of("web1").map((r) => r.guard.name)).toEqual(["cpu:web1", `io:web1:${disk}`]);
  expect(of("localhost").map((r) => r.guard.name)).toEqual(["cpu", "io"]);

  // web2's single CPU is taken: web2 refuses a second instance, web1 still starts one.
  expect(tryAcquireAll(of("web2"), 0)).toBeUndefined();
  expect(tryAcquireAll(of("web2"), 0)?.name).toBe("cpu:web2");
  expect(tryAcquireAll(of("web1"), 0)).toBeUndefined();
  releaseAll(of("web1"), 0);
  releaseAll(of("web2"), 0);
}, 180_000);
