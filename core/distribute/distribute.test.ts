/**
 * `fanout run --distribute` and `fanout worker`, as real processes against a
 * real redis-server: what ran where is read from the submitter's event
 * stream and from records the instances' own processes write; leases from
 * the coordinator itself; processes with pgrep.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Redis } from "ioredis";
import { connectCoordinator, parseCoordinator } from "../coordinator/connection.ts";
import { startRedis, type TestRedis } from "../test_redis.ts";
import { startSshd } from "../test_sshd.ts";
import { type ProcessResult, writeFiles } from "../test_helpers.ts";
import { GROUP, runKeys, runsKey } from "./protocol.ts";

const CLI = resolve(import.meta.dir, "../../cli.ts");

interface Started {
  child: ChildProcess;
  done: Promise<ProcessResult>;
  stderr(): string;
}

/** A fanout process in the background, its output collected. */
function fanout(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Started {
  const child = spawn(process.execPath, ["--no-install", CLI, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c) => (stdout += c));
  child.stderr!.on("data", (c) => (stderr += c));
  const done = new Promise<ProcessResult>((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Event = Record<string, unknown> & { type: string };
const eventsOf = (stdout: string): Event[] => stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Event);
const lines = (file: string): string[] => {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
};
const pgrep = (marker: string) => spawnSync("pgrep", ["-f", marker], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);

let redis: TestRedis;
let client: Redis;
const workers: Started[] = [];

beforeAll(async () => {
  redis = await startRedis();
  client = await connectCoordinator(parseCoordinator(redis.url) as Exclude<ReturnType<typeof parseCoordinator>, string>);
}, 60_000);

afterAll(async () => {
  for (const w of workers) w.child.kill("SIGKILL");
  client?.disconnect();
  await redis?.stop();
}, 60_000);

function worker(name: string, cwd: string, forks = 4): Started {
  const w = fanout(["worker", "--coordinator", redis.url, "--forks", String(forks), "--name", name], cwd);
  workers.push(w);
  return w;
}

/** The one run on the coordinator now (each test has its own, and ends it). */
async function currentRun(): Promise<string> {
  let ids: string[] = [];
  await until("the run to be published", async () => (ids = await client.smembers(runsKey("fanout:"))).length === 1);
  return ids[0]!;
}

/** Entries the named runner holds (claimed, not acknowledged) on the run's queue. */
async function held(run: string, consumer: string): Promise<number> {
  const [, , , consumers] = await client.xpending(runKeys("fanout:", run).queue, GROUP) as [number, string, string, [string, string][] | null];
  return Number(consumers?.find(([c]) => c === consumer)?.[1] ?? 0);
}

/**
 * Runs a plan of 8 instances that declare `needs` under the plan's `pools`
 * through the coordinator, and measures from the start and end lines their
 * own shells write (the runner's pid, the time in ns) the most that ran at
 * once on each runner.
 */
async function runRecorded(dir: string, name: string, pools: string, needs: string, flags: string[]) {
  const rec = join(dir, `${name}.records`);
  const stamp = (what: string) => `echo "${what} $PPID $(date +%s%N)" >> ${rec}`;
  writeFileSync(join(dir, `${name}.yml`), `version: 1
hosts: [local]
resources: ${pools}
tasks:
  - name: work
    module: shell
    resources: ${needs}
    items: [0, 1, 2, 3, 4, 5, 6, 7]
    with: { argv: [sh, -c, '${stamp("start")}; sleep 0.3; ${stamp("end")}'] }
`);
  const r = await fanout(["run", `${name}.yml`, "--no-journal", "--json", "-q", "--coordinator", redis.url, "--distribute", ...flags], dir).done;
  expect(r.code).toBe(0);
  const ends = eventsOf(r.stdout).filter((e) => e.type === "task_end");
  expect(ends.length).toBe(8);
  expect(ends.every((e) => e.status === "ok")).toBe(true);
  const marks = lines(rec).map((l) => l.split(" ")).map(([what, pid, ns]) => ({ what, pid: pid!, ns: BigInt(ns!) }));
  expect(marks.length).toBe(16);
  marks.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  const now = new Map<string, number>();
  const mostAtOnce = new Map<string, number>();
  for (const m of marks) {
    const n = (now.get(m.pid) ?? 0) + (m.what === "start" ? 1 : -1);
    now.set(m.pid, n);
    mostAtOnce.set(m.pid, Math.max(mostAtOnce.get(m.pid) ?? 0, n));
  }
  return { runners: [...new Set(ends.map((e) => String(e.runner)))], mostAtOnce };
}

describe("fanout run --distribute", () => {
  test("2,000 instances, a submitter and three workers, two killed with kill -9 mid-run: each ends ok exactly once; re-runs ≤ what the killed held", async () => {
    const dir = writeFiles({});
    const rec = join(dir, "records");
    const items = Array.from({ length: 2000 }, (_, i) => i).join(", ");
    writeFileSync(join(dir, "plan.yml"), `version: 1
hosts: [local]
tasks:
  - name: work
    module: shell
    items: [${items}]
    with: { argv: [sh, -c, 'echo "{{ item }} $PPID" >> ${rec}; sleep 0.02'] }
`);
    const w = [worker("w1", dir), worker("w2", dir), worker("w3", dir)];
    await until("the workers to wait", () => w.every((x) => x.stderr().includes("waiting for runs")));
    const submitter = fanout(["run", "plan.yml", "--no-journal", "--json", "-q", "--coordinator", redis.url, "--distribute", "--lease-ttl", "3s", "--name", "sub"], dir);
    const run = await currentRun();
    // Each record is written by the instance's own shell; its $PPID is the runner that started it.
    const killed: Record<string, { pid: number; held: number }> = {};
    for (const [name, after] of [["w1", 300], ["w2", 900]] as const) {
      const pid = w[name === "w1" ? 0 : 1]!.child.pid!;
      await until(`${after} records, then some by ${name}`, () => lines(rec).length >= after && lines(rec).some((l) => l.endsWith(` ${pid}`)), 120_000);
      process.kill(pid, "SIGKILL");
      await w[name === "w1" ? 0 : 1]!.done;
      killed[name] = { pid, held: await held(run, name) };
    }
    const r = await submitter.done;
    expect(r.code).toBe(0);

    const events = eventsOf(r.stdout);
    const ends = events.filter((e) => e.type === "task_end");
    expect(ends.length).toBe(2000);
    expect(new Set(ends.map((e) => e.id)).size).toBe(2000);
    expect(ends.every((e) => e.status === "ok")).toBe(true);
    expect(ends.every((e) => typeof e.runner === "string")).toBe(true);
    expect(events.filter((e) => e.type === "task_start").every((e) => typeof e.runner === "string")).toBe(true);
    expect((events.at(-1)!.summary as Record<string, number>).ok).toBe(2000);
    // The survivors did the rest: w3 and the submitter both ran instances to their end.
    const finishers = new Set(ends.map((e) => e.runner));
    expect(finishers.has("w3")).toBe(true);
    expect(finishers.has("sub")).toBe(true);

    const records = lines(rec);
    const ran = new Set(records.map((l) => l.split(" ")[0]));
    expect(ran.size).toBe(2000);
    const reruns = records.length - 2000;
    const heldByKilled = killed.w1!.held + killed.w2!.held;
    expect(reruns).toBeLessThanOrEqual(heldByKilled);
    // Each killed worker did run instances before it died.
    for (const k of Object.values(killed)) expect(records.some((l) => l.endsWith(` ${k.pid}`))).toBe(true);
    // The run is over for the coordinator: no longer offered to workers.
    expect(await client.smembers(runsKey("fanout:"))).toEqual([]);
    w[2]!.child.kill("SIGTERM");
  }, 300_000);

  test("host_exclusive holds across workers: an outside flock never finds two instances at once", async () => {
    const dir = writeFiles({});
    const lock = join(dir, "lock");
    writeFileSync(join(dir, "plan.yml"), `version: 1
hosts: [local]
tasks:
  - name: one_at_a_time
    module: shell
    hint: { kind: host_exclusive }
    items: [${Array.from({ length: 12 }, (_, i) => i).join(", ")}]
    with: { argv: [flock, -n, ${lock}, -c, 'sleep 0.05'] }
`);
    const w = [worker("x1", dir), worker("x2", dir)];
    await until("the workers to wait", () => w.every((x) => x.stderr().includes("waiting for runs")));
    const r = await fanout(["run", "plan.yml", "--no-journal", "--json", "-q", "--coordinator", redis.url, "--distribute", "--no-local"], dir).done;
    expect(r.code).toBe(0);
    const ends = eventsOf(r.stdout).filter((e) => e.type === "task_end");
    expect(ends.length).toBe(12);
    expect(ends.every((e) => e.status === "ok")).toBe(true);
    for (const x of w) x.child.kill("SIGTERM");
  }, 120_000);

  test("workers run the submitter's plugin code, sent by content hash, not the file they find", async () => {
    const dir = writeFiles({
      "plugin.ts": `export default async function run() { return { data: { version: "published" } }; }\n`,
      "plan.yml": `version: 1
hosts: [local]
plugins: { stamp: ./plugin.ts }
tasks:
  - { name: stamp, module: stamp }
`,
    });
    const submitter = fanout(["run", "plan.yml", "--journal", "j.db", "--json", "-q", "--coordinator", redis.url, "--distribute", "--no-local"], dir);
    await currentRun();
    // Published: what is on disk from now on is not what the run runs.
    writeFileSync(join(dir, "plugin.ts"), `export default async function run() { return { data: { version: "edited" } }; }\n`);
    const w = worker("p1", dir);
    const r = await submitter.done;
    expect(r.code).toBe(0);
    const end = eventsOf(r.stdout).find((e) => e.type === "task_end")!;
    expect(end.runner).toBe("p1");
    expect(end.data).toEqual({ version: "published" });
    // The journal records which runner ran it.
    const history = await fanout(["history", "--journal", "j.db", "--run", "1", "--json"], dir).done;
    expect(JSON.parse(history.stdout.trim())).toMatchObject({ id: "stamp[local]", status: "ok", runner: "p1" });
    w.child.kill("SIGTERM");
  }, 120_000);

  test("a worker runs an ssh host's instances on that host, through its own connection", async () => {
    const sshd = await startSshd();
    try {
      const host = (name: string) => `  - { name: ${name}, address: 127.0.0.1, port: ${sshd.port}, user: ${sshd.user} }`;
      const dir = writeFiles({
        "plan.yml": `version: 1
connection: ssh
ssh_options: [IdentityFile=${sshd.keyPath}, UserKnownHostsFile=${sshd.knownHostsPath}, IdentitiesOnly=yes, ConnectTimeout=20]
hosts:
${host("web1")}
${host("web2")}
tasks:
  - name: where
    module: shell
    with: { cmd: "echo $SSH_CONNECTION | cut -d' ' -f4", shell: true }
`,
      });
      const w = worker("s1", dir);
      await until("the worker to wait", () => w.stderr().includes("waiting for runs"));
      const r = await fanout(["run", "plan.yml", "--no-journal", "--json", "-q", "--coordinator", redis.url, "--distribute", "--no-local"], dir).done;
      expect(r.code).toBe(0);
      const ends = eventsOf(r.stdout).filter((e) => e.type === "task_end");
      // Ran through the sshd (its port is the server side of SSH_CONNECTION), on the worker.
      expect(ends.map((e) => [e.id, e.status, e.runner, (e.data as { stdout: string }).stdout]).sort()).toEqual([
        ["where[web1]", "ok", "s1", `${sshd.port}\n`],
        ["where[web2]", "ok", "s1", `${sshd.port}\n`],
      ]);
      w.child.kill("SIGTERM");
      await w.done;
      // No master outlives the worker (closed as it leaves, or ended by its watchdog).
      expect(pgrep(`ssh .*-p ${sshd.port} -E .* -o ControlMaster=yes`)).toEqual([]);
    } finally {
      sshd.stop();
    }
  }, 180_000);

  test("Ctrl-C on the submitter stops the instances running on every worker", async () => {
    const dir = writeFiles({});
    const marker = `${Date.now() % 100000}.${process.pid % 1000}`;
    writeFileSync(join(dir, "plan.yml"), `version: 1
hosts: [local]
tasks:
  - name: long
    module: shell
    items: [a, b, c, d]
    with: { argv: [sleep, "${marker}"] }
`);
    const w = [worker("c1", dir, 2), worker("c2", dir, 2)];
    await until("the workers to wait", () => w.every((x) => x.stderr().includes("waiting for runs")));
    const submitter = fanout(["run", "plan.yml", "--no-journal", "--json", "-q", "--coordinator", redis.url, "--distribute", "--no-local"], dir);
    await until("four sleeps on the workers", () => pgrep(`sleep ${marker}`).length === 4);
    submitter.child.kill("SIGINT");
    const r = await submitter.done;
    expect(r.code).toBe(130);
    await until("no sleep left", () => pgrep(`sleep ${marker}`).length === 0, 30_000);
    const ends = eventsOf(r.stdout).filter((e) => e.type === "task_end");
    expect(ends.map((e) => e.status)).toEqual(["cancelled", "cancelled", "cancelled", "cancelled"]);
    // The workers live on, waiting for the next run.
    await until("the workers to leave the run", () => w.every((x) => x.stderr().includes("left run")));
    expect(w.every((x) => x.child.exitCode === null)).toBe(true);
    for (const x of w) x.child.kill("SIGTERM");
  }, 120_000);

  test("a worker that cannot load the run says so in the submitter's stream, and serves nothing of it", async () => {
    const dir = writeFiles({ "plan.yml": `version: 1
hosts: [local]
secrets: { token: { env: DISTRIBUTE_TEST_TOKEN } }
tasks:
  - { name: a, module: shell, items: [1, 2, 3], with: { argv: [sleep, "2"] } }
` });
    // The worker's environment lacks the secret the plan reads: it cannot load the plan.
    const w = worker("r1", dir);
    await until("the worker to wait", () => w.stderr().includes("waiting for runs"));
    // One at a time, 2 s each: the run lasts long enough for the worker's word to reach it.
    const r = await fanout(["run", "plan.yml", "--no-journal", "--json", "-q", "-p", "1", "--coordinator", redis.url, "--distribute", "--name", "sub"], dir,
      { ...process.env, DISTRIBUTE_TEST_TOKEN: "t0k" }).done;
    expect(r.code).toBe(0);
    const events = eventsOf(r.stdout);
    await until("the worker to say it cannot load the run", () => w.stderr().includes("cannot load run"));
    expect(events.filter((e) => e.type === "task_end").map((e) => e.runner)).toEqual(["sub", "sub", "sub"]);
    const warning = events.find((e) => e.type === "log" && String(e.message).startsWith("runner r1 cannot serve this run"));
    expect(warning?.message).toContain("DISTRIBUTE_TEST_TOKEN");
    w.child.kill("SIGTERM");
  }, 120_000);

  test("a worker starts a claimed instance only when its machine's CPU or I/O tokens are free (cpu 2 of 2: one at a time; cpu 1: two at once)", async () => {
    const dir = writeFiles({});
    const w = worker("t1", dir, 8);
    await until("the worker to wait", () => w.stderr().includes("waiting for runs"));
    const runs = {
      cpu2: await runRecorded(dir, "cpu2", "{ cpu_tokens: 2 }", "{ cpu: 2 }", ["--no-local"]),
      // The control: the same worker and measure see two at once when the tokens allow two.
      cpu1: await runRecorded(dir, "cpu1", "{ cpu_tokens: 2 }", "{ cpu: 1 }", ["--no-local"]),
      io1: await runRecorded(dir, "io1", "{ io_tokens: 1 }", "{ io: 1 }", ["--no-local"]),
    };
    w.child.kill("SIGTERM");
    await w.done;
    for (const r of Object.values(runs)) expect(r.runners).toEqual(["t1"]);
    expect([...runs.cpu2.mostAtOnce.values()]).toEqual([1]);
    expect([...runs.cpu1.mostAtOnce.values()]).toEqual([2]);
    expect([...runs.io1.mostAtOnce.values()]).toEqual([1]);
    expect(w.stderr()).toContain("cpu tokens 2");
  }, 180_000);

  test("the submitter's own share obeys its machine's CPU tokens too", async () => {
    const dir = writeFiles({});
    // No worker: the submitter runs every instance itself, -p 8 forks for them.
    const r = await runRecorded(dir, "local", "{ cpu_tokens: 2 }", "{ cpu: 2 }", ["-p", "8", "--name", "sub"]);
    expect(r.runners).toEqual(["sub"]);
    expect([...r.mostAtOnce.values()]).toEqual([1]);
  }, 120_000);

  test("the coordinator unreachable: exit 2 naming it", async () => {
    const dir = writeFiles({ "plan.yml": "version: 1\nhosts: [local]\ntasks:\n  - { name: a, module: shell, with: { argv: [true] } }\n" });
    const r = await fanout(["run", "plan.yml", "--no-journal", "--coordinator", "redis://127.0.0.1:1", "--distribute"], dir).done;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot reach the coordinator redis://127.0.0.1:1");
    const bad = await fanout(["run", "plan.yml", "--distribute"], dir).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--distribute needs --coordinator");
  }, 60_000);
});
