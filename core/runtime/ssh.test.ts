/**
 * Commands on ssh hosts, against a real sshd on a loopback port: one sshd
 * under two host names (web1, web2). What ran where is judged from the
 * remote processes themselves (flock -n, pgrep), the bytes they printed and
 * the run's events.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort, startSshd, type TestSshd } from "../test_sshd.ts";
import { runPlanText, tempDir, writeFiles } from "../test_helpers.ts";

const ROOT = resolve(import.meta.dir, "../..");
let sshd: TestSshd;

beforeAll(async () => {
  sshd = await startSshd();
}, 60_000);
afterAll(() => sshd?.stop());

/** web1 and web2 (and more, on other ports): the test sshd under several names. */
function hostsYaml(extra: string[] = []): string {
  const host = (name: string, port = sshd.port) => `  - { name: ${name}, address: 127.0.0.1, port: ${port}, user: ${sshd.user}, vars: { label: "${name} label" } }`;
  return [
    "connection: ssh",
    `ssh_options: [IdentityFile=${sshd.keyPath}, UserKnownHostsFile=${sshd.knownHostsPath}, IdentitiesOnly=yes, ConnectTimeout=20]`,
    "hosts:",
    host("web1"),
    host("web2"),
    ...extra,
  ].join("\n");
}

/** ssh options reach only the test sshd: no user or system ssh_config is read. */
const SSH = { configFile: "/dev/null" };

/** A `sleep` whose command line carries a marker unique to this test, for pgrep. */
function markedSleep(dir: string): { path: string; marker: string } {
  const marker = `fanout-remote-sleep-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const path = join(dir, marker);
  symlinkSync(spawnSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim(), path);
  return { path, marker };
}

const survivors = (pattern: string) => spawnSync("pgrep", ["-af", pattern], { encoding: "utf8" }).stdout.trim();

describe("shell on ssh hosts", () => {
  test("argv arrives byte for byte; stdout, stderr, exit codes and stdin are the remote command's", async () => {
    const weird = ["two words", "it's \"quoted\"", "$HOME; rm -rf /tmp/nothing", "line1\nline2", "", "*"];
    const log = await runPlanText(`version: 1
${hostsYaml()}
tasks:
  - name: args
    module: shell
    with: { argv: [printf, "[%s]\\\\n", ${weird.map((w) => JSON.stringify(w)).join(", ")}, "{{ host }}", "{{ host.vars.label }}"] }
  - name: where
    module: shell
    with: { cmd: "echo $SSH_CONNECTION | cut -d' ' -f3-4; pwd", shell: true }
  - name: fails
    module: shell
    needs: [where]
    with: { cmd: "echo out; echo err >&2; exit 3", shell: true }
  - name: stdin
    module: shell
    needs: [where]
    with: { argv: [sh, -c, "tr a-z A-Z; echo \\"[$1]\\"", sh, "x y"], input: "hello\\nthere\\n" }
  - name: cwd
    module: shell
    needs: [where]
    with: { argv: [pwd], cwd: /tmp }
`, { ssh: SSH });
    const end = (id: string) => log.ends.find((e) => e.id === id)!;
    for (const host of ["web1", "web2"]) {
      expect(end(`args[${host}]`).status).toBe("ok");
      expect(end(`args[${host}]`).data.stdout).toBe([...weird, host, `${host} label`].map((w) => `[${w}]\n`).join(""));
      // Ran through sshd: the server's address and port are in SSH_CONNECTION; cwd is the login's home.
      expect(end(`where[${host}]`).data.stdout).toBe(`127.0.0.1 ${sshd.port}\n${process.env.HOME ?? "/root"}\n`);
      expect(end(`fails[${host}]`)).toMatchObject({ status: "failed", data: { exit_code: 3, stdout: "out\n", stderr: "err\n" } });
      expect(end(`fails[${host}]`).error).toBe("/bin/sh: exit code 3: err");
      expect(end(`stdin[${host}]`).data.stdout).toBe("HELLO\nTHERE\n[x y]\n");
      expect(end(`cwd[${host}]`).data.stdout).toBe("/tmp\n");
    }
    expect(log.exitCode).toBe(1);
  }, 120_000);

  test("a timeout kills the remote process group, SIGKILL after the grace when it ignores SIGTERM", async () => {
    const dir = tempDir("fanout-ssh-kill-");
    const sleep = markedSleep(dir);
    const log = await runPlanText(`version: 1
${hostsYaml()}
tasks:
  - name: hang
    module: shell
    timeout: 2s
    kill_grace: 1s
    with: { cmd: "trap '' TERM; ${sleep.path} 300 & ${sleep.path} 301", shell: true }
`, { ssh: SSH });
    expect(log.ends.map((e) => [e.status, e.error])).toEqual([["timed_out", "timed out after 2000ms"], ["timed_out", "timed out after 2000ms"]]);
    expect(survivors(sleep.marker)).toBe("");
  }, 120_000);

  test("host_exclusive holds per host, as the remote processes see it (flock -n), timed-out attempts included", async () => {
    const dir = tempDir("fanout-ssh-lock-");
    const sleep = markedSleep(dir);
    // Every command takes its host's lock file with flock -n: two at once on one host would fail to lock, and say so.
    // The last item outlives its timeout and ignores SIGTERM: its lock must stay held until the remote SIGKILL.
    const log = await runPlanText(`version: 1
parallelism: 6
${hostsYaml()}
tasks:
  - name: lock
    module: shell
    hint: host_exclusive
    items: ["0.3", "0.6", "0.9", "60"]
    timeout: 10s
    kill_grace: 500ms
    with:
      argv:
        - sh
        - -c
        - |
          flock -n "$1/$2.lock" sh -c 'echo "$3" >> "$1/$2.held"; trap "" TERM; "$4" "$3"' sh "$1" "$2" "$3" "$4" || { echo "$2 $3" >> "$1/conflicts"; exit 9; }
        - sh
        - ${dir}
        - "{{ host }}"
        - "{{ item }}"
        - ${sleep.path}
`, { ssh: SSH });
    expect(existsSync(join(dir, "conflicts")) ? readFileSync(join(dir, "conflicts"), "utf8") : "").toBe("");
    expect(log.ends.filter((e) => e.status !== "ok").map((e) => [e.host, e.item, e.status]).sort()).toEqual([["web1", "60", "timed_out"], ["web2", "60", "timed_out"]]);
    for (const host of ["web1", "web2"]) expect(readFileSync(join(dir, `${host}.held`), "utf8").split("\n").filter(Boolean).sort()).toEqual(["0.3", "0.6", "0.9", "60"]);
    expect(survivors(sleep.marker)).toBe("");
  }, 180_000);

  test("an unreachable host: status unreachable with ssh's words, its later tasks skipped, counted in the summary", async () => {
    const closed = await freePort();
    const log = await runPlanText(`version: 1
${hostsYaml([`  - { name: web3, address: 127.0.0.1, port: ${closed}, user: ${sshd.user} }`])}
tasks:
  - { name: first, module: shell, with: { argv: ["true"] } }
  - { name: second, module: shell, with: { argv: ["true"] } }
`, { ssh: { ...SSH, retriesUnreachable: 1 } });
    const status = Object.fromEntries(log.ends.map((e) => [e.id, e.status]));
    expect(status).toEqual({
      "first[web1]": "ok",
      "first[web2]": "ok",
      "first[web3]": "unreachable",
      "second[web1]": "ok",
      "second[web2]": "ok",
      "second[web3]": "skipped",
    });
    expect(log.ends.find((e) => e.id === "first[web3]")!.error).toMatch(/^host web3 is unreachable: .*Connection refused/);
    expect(log.end.summary).toMatchObject({ unreachable: 1, unreachable_hosts: ["web3"], ok: 4, skipped: 1 });
    expect(log.exitCode).toBe(1);
  }, 120_000);

  test("--retries-unreachable reconnects: a host whose sshd comes up during the retries is reached, and not before", async () => {
    const late = await startSshd();
    late.stop();
    // The pid file goes when sshd has gone: from then on its port refuses.
    for (let i = 0; i < 100 && existsSync(join(late.dir, "sshd.pid")); i++) await new Promise((r) => setTimeout(r, 50));
    const dir = tempDir("fanout-ssh-late-");
    try {
      const plan = (retries: number) => runPlanText(`version: 1
connection: ssh
ssh_options: [IdentityFile=${late.keyPath}, UserKnownHostsFile=${late.knownHostsPath}, IdentitiesOnly=yes, ConnectTimeout=20]
hosts:
  - { name: late, address: 127.0.0.1, port: ${late.port}, user: ${late.user} }
tasks:
  - { name: t, module: shell, with: { cmd: "echo reached >> ${dir}/late.log", shell: true } }
`, { ssh: { ...SSH, retriesUnreachable: retries } });
      // Without retries the refused connection is final.
      const once = await plan(0);
      expect(once.ends.map((e) => e.status)).toEqual(["unreachable"]);
      // With retries (1 s, 2 s, 4 s, … apart) the server started after the first refusal is reached.
      const retried = plan(4);
      await new Promise((r) => setTimeout(r, 300));
      late.start();
      const log = await retried;
      expect(log.ends.map((e) => e.status)).toEqual(["ok"]);
      expect(readFileSync(join(dir, "late.log"), "utf8")).toBe("reached\n");
    } finally {
      late.stop();
    }
  }, 180_000);

  test("known_hosts checking stays on: an unknown host key is unreachable, unless --ssh-accept-new", async () => {
    const dir = tempDir("fanout-ssh-known-");
    const plan = (knownHosts: string) => `version: 1
connection: ssh
ssh_options: [IdentityFile=${sshd.keyPath}, UserKnownHostsFile=${knownHosts}, IdentitiesOnly=yes]
hosts:
  - { name: fresh, address: 127.0.0.1, port: ${sshd.port}, user: ${sshd.user} }
tasks:
  - { name: t, module: shell, with: { argv: ["true"] } }
`;
    const refused = await runPlanText(plan(join(dir, "empty")), { ssh: SSH });
    expect(refused.ends.map((e) => e.status)).toEqual(["unreachable"]);
    expect(refused.ends[0]!.error).toContain("Host key verification failed");
    const accepted = await runPlanText(plan(join(dir, "learned")), { ssh: { ...SSH, acceptNew: true } });
    expect(accepted.ends.map((e) => e.status)).toEqual(["ok"]);
    expect(readFileSync(join(dir, "learned"), "utf8")).toContain(`[127.0.0.1]:${sshd.port}`);
  }, 120_000);
});

describe("fanout run over ssh, as a process", () => {
  test("Ctrl-C leaves no remote process and no master connection behind", async () => {
    const tmp = tempDir("fanout-ssh-tmp-");
    const sleep = markedSleep(tmp);
    const dir = writeFiles({
      "plan.yml": `version: 1
${hostsYaml()}
tasks:
  - { name: long, module: shell, with: { cmd: "${sleep.path} 300", shell: true } }
`,
    });
    const child = spawn(join(ROOT, "node_modules/.bin/bun"), ["--no-install", join(ROOT, "cli.ts"), "run", join(dir, "plan.yml"), "--ssh-config", "/dev/null", "-q"], {
      // The masters' sockets go under this run's own TMPDIR: pgrep finds them by it.
      env: { ...process.env, TMPDIR: tmp },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
    // The remote sleeps themselves (their argv[0] is the marked path), one per host.
    const sleeping = () => survivors(`^${sleep.path} 300`).split("\n").filter(Boolean).length;
    for (let i = 0; i < 600 && sleeping() < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(sleeping()).toBe(2);
    expect(survivors(`ControlPath=${tmp}`)).not.toBe("");
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(survivors(sleep.marker)).toBe("");
    expect(survivors(`ControlPath=${tmp}`)).toBe("");
    expect(stderr).toContain("cancelling running instances");
  }, 120_000);
});

describe("per-host pools in a run", () => {
  test("each ssh host gets CPU tokens of its own, sized by its probe, not the local pool", async () => {
    // Locally one CPU token: if web1 and web2 shared it, their cpu: 1 instances could never overlap.
    // Each host's own pool has the remote core count (at least 1), so one instance per host runs at once.
    const dir = tempDir();
    const log = await runPlanText(`version: 1
${hostsYaml()}
tasks:
  - name: spin
    module: shell
    resources: { cpu: 1 }
    with: { cmd: "echo start $(date +%s%N) >> ${dir}/{{ host }}.log; sleep 1; echo end $(date +%s%N) >> ${dir}/{{ host }}.log", shell: true }
`, { ssh: SSH, cpuTokens: 1, parallelism: 4 });
    expect(log.ends.map((e) => e.status)).toEqual(["ok", "ok"]);
    const span = (host: string) => {
      const lines = readFileSync(join(dir, `${host}.log`), "utf8").trim().split("\n").map((l) => Number(l.split(" ")[1]) / 1e6);
      return { start: lines[0]!, end: lines[1]! };
    };
    const [a, b] = [span("web1"), span("web2")];
    // The remote processes' own clocks say they ran at the same time.
    expect(a.start < b.end && b.start < a.end).toBe(true);
    // And the guards they held were the hosts' own pools.
    const starts = log.events.filter((e) => e.type === "task_start") as { id: string; guards: string[] }[];
    expect(starts.map((s) => [s.id, s.guards.filter((g) => g.startsWith("cpu"))]).sort()).toEqual([["spin[web1]", ["cpu:web1"]], ["spin[web2]", ["cpu:web2"]]]);
  }, 120_000);
});
