/**
 * Shared guards, end to end: separate fanout processes (`bun cli.ts run`)
 * against a real redis-server. Every check reads what the processes did —
 * timestamps their commands wrote, a `flock -n` witness, exit codes, stderr,
 * the NDJSON event log, the coordinator's keys — never our own objects.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { maxOverlap, maxStartsInWindow, type ProcessResult, runProcess, writeFiles } from "../../test_helpers.ts";
import { type FanoutRuntime, fanoutArgv } from "../../runtime/fanout_runtimes.ts";
import { startRedis, type TestRedis } from "../../test_redis.ts";
import { freePort } from "../../test_sshd.ts";

const CLI = resolve(import.meta.dir, "../../../cli.ts");
const fanout = (args: string[], cwd: string, timeoutMs = 60_000, runtime: FanoutRuntime = "bun") => runProcess([...fanoutArgv(runtime), ...args], { cwd, timeoutMs });
const run = (dir: string, redis: TestRedis, ...more: string[]) =>
  fanout(["run", "plan.yml", "--no-journal", "--json", "--coordinator", redis.url, ...more], dir);

const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "") : []);
const nsToMs = (ns: string) => Number(BigInt(ns) / 1000n) / 1000;

async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A first task in each process that waits for the test's "go": both processes then contend from the same moment. */
const GATE = `  - { name: gate, module: shell, with: { shell: true, cmd: 'mkdir -p ready && touch ready/$$ && while [ ! -f go ]; do sleep 0.05; done' } }`;

async function bothThroughGate(dir: string): Promise<void> {
  await until("both processes at the gate", () => existsSync(join(dir, "ready")) && readdirSync(join(dir, "ready")).length === 2, 60_000);
  writeFileSync(join(dir, "go"), "");
}

function expectOk(r: ProcessResult): void {
  expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe("shared guards › two fanout processes", () => {
  test("a rate_limited key: the merged start times the commands wrote never exceed the bucket in any window", async () => {
    // One token per 500 ms: wide enough that a spawn's jitter on a loaded machine cannot move a start across a window.
    const perSecond = 2;
    const burst = 2;
    const dir = writeFiles({
      "plan.yml": `version: 1
parallelism: 8
tasks:
${GATE}
  - { name: call, module: shell, hint: { kind: rate_limited, per_second: ${perSecond}, burst: ${burst}, key: api }, items: [1, 2, 3, 4, 5, 6], with: { shell: true, cmd: 'date +%s%N >> starts' } }
`,
    });
    const both = Promise.all([run(dir, redis, "--coordinator-prefix", "rate:"), run(dir, redis, "--coordinator-prefix", "rate:")]);
    await bothThroughGate(dir);
    const [a, b] = await both;
    expectOk(a);
    expectOk(b);
    const starts = lines(join(dir, "starts")).map(nsToMs);
    expect(starts.length).toBe(12);
    // Windows just short of a token's period, so the spawn jitter of one command cannot carry a start across.
    for (const w of [400, 900, 1900]) {
      expect({ w, most: maxStartsInWindow(starts, w) }).toEqual({ w, most: Math.min(12, burst + Math.floor((perSecond * w) / 1000)) });
    }
    // Both processes' buckets were the one in Redis: 12 starts took at least (12 - burst) / perSecond.
    expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThanOrEqual(((12 - burst) / perSecond) * 1000 * 0.9);
    // The summary says the bucket was remote, and how many round trips an acquisition took.
    const end = JSON.parse(a.stdout.trim().split("\n").at(-1)!);
    expect(end.summary.guards["bucket:api"]).toMatchObject({ remote: true, acquisitions: 6 });
    expect(end.summary.guards["bucket:api"].round_trips.p50).toBeGreaterThanOrEqual(1);
  }, 120_000);

  test("a global_exclusive group never overlaps across the processes, one under Bun, one under Deno (their own records and a flock -n witness)", async () => {
    const dir = writeFiles({
      "plan.yml": `version: 1
parallelism: 4
vars: { who: nobody }
tasks:
${GATE}
  - name: exclusive
    module: shell
    hint: { kind: global_exclusive, group: deploy }
    items: [1, 2, 3, 4]
    with: { shell: true, env: { WHO: "{{ vars.who }}" }, cmd: 'flock -n witness -c "echo $WHO $(date +%s%N) >> spans; sleep 0.1; echo $WHO $(date +%s%N) >> spans"' }
`,
    });
    const args = ["run", "plan.yml", "--no-journal", "--json", "--coordinator", redis.url];
    const both = Promise.all([fanout([...args, "--var", "who=A"], dir), fanout([...args, "--var", "who=B"], dir, 60_000, "deno")]);
    await bothThroughGate(dir);
    const goAt = Date.now();
    const [a, b] = await both;
    // flock -n fails its instance (and so the run) if another held the witness.
    expectOk(a);
    expectOk(b);
    const marks = lines(join(dir, "spans")).map((l) => l.split(" ") as [string, string]);
    expect(marks.length).toBe(16);
    const spans: { who: string; start: number; end: number }[] = [];
    for (let i = 0; i < marks.length; i += 2) {
      // Written in order by one holder at a time: a start and its end are neighbours.
      expect(marks[i]![0]).toBe(marks[i + 1]![0]);
      spans.push({ who: marks[i]![0], start: nsToMs(marks[i]![1]), end: nsToMs(marks[i + 1]![1]) });
    }
    expect(maxOverlap(spans)).toBe(1);
    // Not vacuous: every span began after both processes were through the gate, all eight instances contending.
    expect(Math.min(...spans.map((s) => s.start))).toBeGreaterThanOrEqual(goAt);
    expect(new Set(spans.map((s) => s.who))).toEqual(new Set(["A", "B"]));
  }, 120_000);
});

describe("shared guards › leases", () => {
  test("a lock holder killed with kill -9: the other process gets the lock once the lease expires, not before", async () => {
    const dir = writeFiles({
      "plan.yml": `version: 1
vars: { who: nobody }
tasks:
  - { name: hold, module: shell, hint: { kind: global_exclusive, group: one }, with: { shell: true, env: { WHO: "{{ vars.who }}" }, cmd: 'if [ "$WHO" = A ]; then echo $$ > holder.pid; exec sleep 60; else date +%s%N > b.start; fi' } }
`,
    });
    const args = ["run", "plan.yml", "--no-journal", "--quiet", "--coordinator", redis.url, "--coordinator-prefix", "kill:", "--lease-ttl", "2s"];
    const holder: ChildProcess = spawn(process.execPath, ["--no-install", CLI, ...args, "--var", "who=A"], { cwd: dir, stdio: "ignore" });
    try {
      await until("A to hold the lock", () => existsSync(join(dir, "holder.pid")) && readFileSync(join(dir, "holder.pid"), "utf8").trim() !== "");
      const waiter = fanout([...args, "--var", "who=B"], dir);
      // B is up and waiting when A dies (B's own start-up takes longer than this under load; the check below does not depend on it).
      await new Promise((r) => setTimeout(r, 1_000));
      holder.kill("SIGKILL");
      process.kill(Number(readFileSync(join(dir, "holder.pid"), "utf8")), "SIGKILL");
      // A's last lease, as the coordinator holds it: its expiry in Redis time (this machine's clock).
      const lease = spawnSync("redis-cli", ["-p", String(redis.port), "zrange", "kill:global:one", "0", "-1", "withscores"], { encoding: "utf8" }).stdout.trim().split("\n");
      expect(lease.length).toBe(2);
      const expiresAt = Number(lease[1]);
      const b = await waiter;
      expectOk(b);
      const bStart = nsToMs(readFileSync(join(dir, "b.start"), "utf8").trim());
      expect(bStart).toBeGreaterThanOrEqual(expiresAt);
    } finally {
      holder.kill("SIGKILL");
    }
  }, 120_000);

  test("a lease lost while held (the coordinator restarted) is reported in the event log; the run goes on", async () => {
    const own = await startRedis();
    const dir = writeFiles({
      "plan.yml": `version: 1
tasks:
  - { name: hold, module: shell, hint: host_exclusive, with: { shell: true, cmd: 'touch started; while [ ! -f done ]; do sleep 0.05; done' } }
`,
    });
    try {
      // A TTL long enough for the restart to fit in half of it on a loaded machine (else the coordinator is lost).
      const r = fanout(["run", "plan.yml", "--no-journal", "--json", "--coordinator", own.url, "--lease-ttl", "8s"], dir);
      await until("the instance to start", () => existsSync(join(dir, "started")));
      await own.stop();
      const again = await startRedis(own.port);
      try {
        // A renewal (every 8/3 s, and at once when the server answers again) finds the new server empty.
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        writeFileSync(join(dir, "done"), "");
        const result = await r;
        const events = result.stdout.trim().split("\n").map((l) => JSON.parse(l));
        const logs = events.filter((e) => e.type === "log").map((e) => e.message as string);
        expect(logs.some((m) => m.includes("host:localhost: 1 lease(s) held by running instances were lost"))).toBe(true);
        const end = events.at(-1);
        expect(end.summary.guards["host:localhost"].leases_lost).toBe(1);
        expect(result.code).toBe(0);
      } finally {
        await again.stop();
      }
    } finally {
      await own.stop();
    }
  }, 120_000);
});

test("a run without a coordinator does not load the Redis client; one with a coordinator does", async () => {
  const dir = writeFiles({
    "plan.yml": "version: 1\ntasks:\n  - { name: a, module: debug, hint: host_exclusive, with: { message: x } }\n",
    // Runs fanout's main() in this process, then counts the ioredis files loaded.
    "probe.ts": `const { main } = await import(${JSON.stringify(CLI)});
const code = await main(process.argv.slice(2));
console.log(JSON.stringify({ code, ioredis: Object.keys(require.cache).filter((k) => k.includes("/ioredis/")).length }));
`,
  });
  const probe = (...args: string[]) => runProcess([process.execPath, "--no-install", "probe.ts", "run", "plan.yml", "-q", "--no-journal", ...args], { cwd: dir });
  const [plain, shared] = [await probe(), await probe("--coordinator", redis.url)];
  expect(JSON.parse(plain.stdout)).toEqual({ code: 0, ioredis: 0 });
  const loaded = JSON.parse(shared.stdout);
  expect(loaded.code).toBe(0);
  expect(loaded.ioredis).toBeGreaterThan(0);
}, 60_000);

describe("shared guards › a coordinator that fails", () => {
  test("unreachable at start: exit 2, naming the address with its password masked", async () => {
    const dir = writeFiles({ "plan.yml": "version: 1\ntasks:\n  - { name: a, module: shell, hint: host_exclusive, with: { argv: [touch, ran] } }\n" });
    const port = await freePort();
    const r = await fanout(["run", "plan.yml", "--no-journal", "--coordinator", `redis://user:s3cret@127.0.0.1:${port}`], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: cannot reach the coordinator redis://user:***@127.0.0.1:${port}: connect ECONNREFUSED`);
    expect(r.stderr).not.toContain("s3cret");
    expect(existsSync(join(dir, "ran"))).toBe(false);
    // With --json, the same as an error event of its own kind.
    const json = await fanout(["run", "plan.yml", "--no-journal", "--json", "--coordinator", `redis://user:s3cret@127.0.0.1:${port}`], dir);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ type: "error", kind: "coordinator", exit_code: 2 });
    expect(json.stdout).not.toContain("s3cret");
  }, 60_000);

  test("stopped mid-run: the running instance finishes, nothing new starts, the run fails with a clear message", async () => {
    const own = await startRedis();
    const dir = writeFiles({
      "plan.yml": `version: 1
tasks:
  - { name: step, module: shell, hint: { kind: global_exclusive, group: one }, items: [1, 2, 3, 4], with: { shell: true, cmd: 'touch started.{{ item }}; while [ ! -f go ]; do sleep 0.05; done' } }
`,
    });
    try {
      const r = fanout(["run", "plan.yml", "--no-journal", "--json", "--coordinator", own.url, "--lease-ttl", "2s"], dir, 60_000);
      await until("the first instance to start", () => existsSync(join(dir, "started.1")));
      await own.stop();
      // The running instance ends only when told: after the coordinator is gone.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      writeFileSync(join(dir, "go"), "");
      const result = await r;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`lost the coordinator ${own.url}`);
      const ends = result.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.type === "task_end");
      expect(ends.map((e) => [e.id, e.status]).sort()).toEqual([
        ["step[localhost][1]", "ok"],
        ["step[localhost][2]", "cancelled"],
        ["step[localhost][3]", "cancelled"],
        ["step[localhost][4]", "cancelled"],
      ]);
      expect(ends.find((e) => e.status === "cancelled").error).toContain(`lost the coordinator ${own.url}`);
      expect(existsSync(join(dir, "started.2"))).toBe(false);
    } finally {
      await own.stop();
    }
  }, 90_000);
});
