/** `fanout probe --host`: host specs, flag checks, and the real CLI probing the test sshd. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { probeDevice } from "../probe/device_probe.ts";
import { coreDetails } from "../probe/cores.ts";
import { runProcess, tempDir } from "../test_helpers.ts";
import { startSshd, type TestSshd } from "../test_sshd.ts";
import { parseHostSpec, targetFromFlags } from "./probe_host.ts";

const CLI = resolve(import.meta.dir, "../../cli.ts");
const fanout = (...args: string[]) => runProcess([process.execPath, "--no-install", CLI, ...args], { timeoutMs: 120_000 });

let sshd: TestSshd;
// startSshd waits for a real login: slow on a loaded machine.
beforeAll(async () => {
  sshd = await startSshd();
}, 60_000);
afterAll(() => sshd?.stop());

test("parseHostSpec reads [user@]address[:port], IPv6 in brackets, and refuses the rest", () => {
  expect(parseHostSpec("web1")).toEqual({ name: "web1", address: "web1", port: undefined, user: undefined });
  expect(parseHostSpec("deploy@10.0.0.5:2222")).toEqual({ name: "deploy@10.0.0.5:2222", address: "10.0.0.5", port: 2222, user: "deploy" });
  expect(parseHostSpec("root@[::1]:22")).toMatchObject({ address: "::1", port: 22, user: "root" });
  expect(() => parseHostSpec("a b")).toThrow('--host: expected NAME or [user@]address[:port], got "a b"');
  expect(() => parseHostSpec("web1:70000")).toThrow("--host web1:70000: expected a port from 1 to 65535, got 70000");
  expect(() => targetFromFlags({ host: "web1", sshOption: ["BatchMode=yes", "nonsense"] })).toThrow('-o: expected an ssh option as Key=Value, got "nonsense"');
  expect(targetFromFlags({ host: "web1", sshOption: "Port=2", sshConfig: "/x" })).toMatchObject({ options: ["Port=2"], configFile: "/x" });
});

test("fanout probe --host prints the local probe's shape for the host, with its disk class and cores", async () => {
  const dir = tempDir("fanout-probe-host-");
  const host = `${sshd.user}@127.0.0.1:${sshd.port}`;
  const ssh = ["--ssh-config", "/dev/null", "-o", `IdentityFile=${sshd.keyPath}`, "-o", `UserKnownHostsFile=${sshd.knownHostsPath}`, "-o", "IdentitiesOnly=yes"];
  const [json, text] = await Promise.all([fanout("probe", dir, "--host", host, ...ssh, "--json"), fanout("probe", dir, "--host", host, ...ssh)]);
  expect(json.stderr).toBe("");
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout);
  const local = probeDevice(dir);
  expect(Object.keys(report).sort()).toEqual(["cores", "device", "host", "memory", "path", "schema_version"]);
  expect([report.host, report.path, report.device.class, report.device.recommended.random.depth]).toEqual([host, local.resolution.path, local.class, local.recommended.random.depth]);
  expect(report.cores.cores).toBe(coreDetails().cores);
  expect(text.code).toBe(0);
  expect(text.stdout).toStartWith(`host        ${host}\npath        ${local.resolution.path}\n`);
  expect(text.stdout).toContain(`class       ${local.class}:`);
}, 180_000);

test("--host with --calibrate, a bad port or an unreachable host: clear errors, non-zero exits", async () => {
  const calibrate = await fanout("probe", "--host", "web1", "--calibrate");
  expect([calibrate.code, calibrate.stderr]).toEqual([2, expect.stringContaining("not with --host")]);
  const port = await fanout("probe", "--host", "web1:0");
  expect([port.code, port.stderr]).toEqual([2, expect.stringContaining("expected a port from 1 to 65535, got 0")]);
  const down = await fanout("probe", "--host", "127.0.0.1:1", "--ssh-config", "/dev/null");
  expect([down.code, down.stderr]).toEqual([1, "error: ssh 127.0.0.1 (127.0.0.1:1): ssh: connect to host 127.0.0.1 port 1: Connection refused\n"]);
  expect(down.stdout).toBe("");
}, 180_000);
