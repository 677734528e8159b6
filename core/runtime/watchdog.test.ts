/**
 * The watchdog, checked from the processes: every process it should kill is
 * found (or not) with `pgrep -f` by a marker — the path of a `sleep` linked
 * into a fresh directory — first for a watchdog started here, then for fanout
 * itself under Bun, Deno and the compiled binary, SIGKILLed mid-run; and,
 * after a clean run, that the watchdog had nothing left to signal.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { compiledBinary, DENO, FANOUT_RUNTIMES, fanoutArgv } from "./fanout_runtimes.ts";
import { endsById } from "./plugin_fixtures.ts";
import { startWatchdog, type Watchdog } from "./watchdog.ts";

const markers: string[] = [];

/** A `sleep` whose path is unique to this call: `pgrep -f marker` finds exactly what runs it. */
function markedSleep(): { marker: string; sleep: string } {
  const marker = tempDir("fanout-orphan-");
  const sleep = join(marker, "sleep");
  symlinkSync(spawnSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim(), sleep);
  markers.push(marker);
  return { marker, sleep };
}

/** Live processes whose command line holds `marker` (zombies have none). */
function countMarked(marker: string): number {
  return Number(spawnSync("pgrep", ["-fc", marker], { encoding: "utf8" }).stdout.trim() || 0);
}

/** Whether `pid` is a process that has not exited (a zombie has). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Whether the watchdog of the fanout process `pid` is running. */
function hasWatchdog(pid: number): boolean {
  return spawnSync("pgrep", ["-f", `fanout_watchdog=${pid} fd=[0-9]+$`]).status === 0;
}

async function waitUntil(ok: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/** Closes the watchdog's pipe: the listed group ends by SIGTERM, the watchdog exits, and the unlisted (marked) process still runs. */
async function closeAndCheck(w: Watchdog, listedEnd: ReturnType<typeof exited>, unlisted: ChildProcess, marker: string): Promise<void> {
  w.close();
  expect(await listedEnd).toEqual({ code: null, signal: "SIGTERM" });
  expect(await waitUntil(() => !running(w.pid), 10_000)).toBe(true);
  expect(countMarked(marker)).toBe(1);
  unlisted.kill("SIGKILL");
}

afterAll(() => {
  for (const marker of markers) spawnSync("pkill", ["-KILL", "-f", marker]);
});

describe("startWatchdog", () => {
  test("when its pipe closes it SIGTERMs every listed group, and SIGKILLs one that ignores SIGTERM", async () => {
    const { marker, sleep } = markedSleep();
    const w = startWatchdog();
    const plain = spawn(sleep, ["30"], { detached: true, stdio: "ignore" });
    const stubborn = spawn("sh", ["-c", `trap '' TERM; ${sleep} 30 & wait`], { detached: true, stdio: "ignore" });
    const ends = [exited(plain), exited(stubborn)];
    w.track(plain.pid!);
    w.track(stubborn.pid!);
    expect(await waitUntil(() => countMarked(marker) === 3, 10_000)).toBe(true);
    w.close();
    expect(await Promise.all(ends)).toEqual([{ code: null, signal: "SIGTERM" }, { code: null, signal: "SIGKILL" }]);
    // The stubborn shell's own sleep (same group) is gone too.
    expect(await waitUntil(() => countMarked(marker) === 0, 10_000)).toBe(true);
    expect(await waitUntil(() => !running(w.pid), 10_000)).toBe(true);
  }, 30_000);

  test("a group removed from the list is left alone, and the watchdog exits", async () => {
    const { marker, sleep } = markedSleep();
    const w = startWatchdog();
    const done = spawn(sleep, ["30"], { detached: true, stdio: "ignore" });
    w.track(done.pid!);
    w.untrack(done.pid!);
    w.close();
    expect(await waitUntil(() => !running(w.pid), 10_000)).toBe(true);
    expect(countMarked(marker)).toBe(1);
    done.kill("SIGKILL");
  }, 30_000);

  test("through the pipe (no list file): unlistings go out with the next listing, however many: the line stream stays whole and the group listed after them is taken down", async () => {
    const { marker, sleep } = markedSleep();
    const w = startWatchdog(null);
    const child = spawn(sleep, ["30"], { detached: true, stdio: "ignore" });
    const end = exited(child);
    // Ids never listed, far more bytes than a socket takes in one write: the write goes out in parts.
    for (let i = 0; i < 60_000; i++) w.untrack(2 ** 22 + i);
    w.track(child.pid!);
    w.close();
    expect(await end).toEqual({ code: null, signal: "SIGTERM" });
    expect(await waitUntil(() => countMarked(marker) === 0, 10_000)).toBe(true);
  }, 30_000);

  test("a group is listed before track() returns: SIGKILL right after it still takes the group down", async () => {
    const { marker, sleep } = markedSleep();
    const script = join(tempDir(), "die.ts");
    writeFileSync(
      script,
      `import { spawn } from "node:child_process";
import { startWatchdog } from ${JSON.stringify(join(import.meta.dir, "watchdog.ts"))};
const w = startWatchdog();
const child = spawn(${JSON.stringify(sleep)}, ["30"], { detached: true, stdio: "ignore" });
w.track(child.pid);
process.kill(process.pid, "SIGKILL");
`,
    );
    for (const argv of [[process.execPath, "--no-install", script], [DENO, "run", "-A", script]]) {
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 30_000 });
      expect(r.signal).toBe("SIGKILL");
      expect(await waitUntil(() => countMarked(marker) === 0, 10_000)).toBe(true);
    }
  }, 60_000);

  test("where no list file can be made, the pipe carries the list: a listed group is taken down, an unlisted one left alone", async () => {
    const { marker, sleep } = markedSleep();
    const w = startWatchdog(join(tempDir(), "no-such-dir"));
    expect(existsSync(`/proc/${w.pid}/fd/4`)).toBe(false);
    const listed = spawn(sleep, ["30"], { detached: true, stdio: "ignore" });
    const unlisted = spawn(sleep, ["30"], { detached: true, stdio: "ignore" });
    const end = exited(listed);
    w.track(unlisted.pid!);
    w.track(listed.pid!);
    w.untrack(unlisted.pid!);
    await closeAndCheck(w, end, unlisted, marker);
  }, 30_000);

  test("a watchdog killed by hand makes track() a no-op, not an error", async () => {
    const w = startWatchdog();
    process.kill(-w.pid, "SIGKILL");
    // Its shell and its awk (the reader) are both gone: writes now meet a closed pipe.
    expect(await waitUntil(() => spawnSync("pgrep", ["-g", String(w.pid)]).status === 1, 10_000)).toBe(true);
    expect(() => {
      for (let i = 0; i < 3; i++) w.track(2 ** 22 + i);
    }).not.toThrow();
  }, 30_000);
});

describe("the list in shared memory", () => {
  test("is a file the watchdog holds open and no directory shows", () => {
    const w = startWatchdog();
    try {
      const target = readlinkSync(`/proc/${w.pid}/fd/4`);
      expect(target).toMatch(/^\/dev\/shm\/fanout-watchdog-\d+-[0-9a-f]{16} \(deleted\)$/);
      expect(readdirSync("/dev/shm").some((name) => target.includes(name))).toBe(false);
    } finally {
      w.close();
    }
  });

  test("a slot freed by a group that is gone is reused: after 2,000 groups one at a time the file holds one line, and only the live group is taken down", async () => {
    const { marker, sleep } = markedSleep();
    const w = startWatchdog();
    const gone = spawn(sleep, ["30"], { detached: true, stdio: "ignore" });
    const live = spawn(sleep, ["30"], { detached: true, stdio: "ignore" });
    const end = exited(live);
    // Ids far above any real group: listing and unlisting them touches no process.
    for (let i = 0; i < 2_000; i++) {
      w.track(2 ** 22 + i);
      w.untrack(2 ** 22 + i);
    }
    w.track(gone.pid!);
    w.untrack(gone.pid!); // still running, but unlisted: the watchdog must leave it alone
    w.track(live.pid!);
    expect(readFileSync(`/proc/${w.pid}/fd/4`, "utf8")).toBe(`+${String(live.pid).padStart(10, "0")}\n`);
    await closeAndCheck(w, end, gone, marker);
  }, 30_000);

  test("groups alive at once each have their own slot, and all of them are taken down", async () => {
    const { marker, sleep } = markedSleep();
    const w = startWatchdog();
    const children = Array.from({ length: 5 }, () => spawn(sleep, ["30"], { detached: true, stdio: "ignore" }));
    const ends = children.map(exited);
    for (const c of children) w.track(c.pid!);
    expect(readFileSync(`/proc/${w.pid}/fd/4`, "utf8").split("\n").filter(Boolean)).toHaveLength(5);
    w.close();
    expect(await Promise.all(ends)).toEqual(children.map(() => ({ code: null, signal: "SIGTERM" })));
    expect(await waitUntil(() => countMarked(marker) === 0, 10_000)).toBe(true);
  }, 30_000);
});

/** 4 sleeps run directly, 4 shells that ignore SIGTERM each with a sleep of their own: 12 marked processes. */
function sleepersPlan(sleep: string): string {
  const plan = join(tempDir(), "plan.yml");
  writeFileSync(
    plan,
    `version: 1
parallelism: 8
tasks:
  - { name: direct, module: shell, items: [1, 2, 3, 4], with: { argv: [${JSON.stringify(sleep)}, "30"] } }
  - name: nested
    module: shell
    needs: []
    items: [1, 2, 3, 4]
    with: { cmd: ${JSON.stringify(`trap '' TERM; ${sleep} 30 & wait`)}, shell: true }
`,
  );
  return plan;
}

function startFanout(argv: string[]): { child: ChildProcess; stdout: () => string; closed: Promise<number | null> } {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: tempDir("fanout-cwd-"), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.resume();
  const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, stdout: () => out, closed };
}

describe("fanout killed with SIGKILL", () => {
  beforeAll(() => void compiledBinary(), 120_000);

  for (const runtime of FANOUT_RUNTIMES) {
    test(`${runtime}: every process group it started is gone long before its 30 s sleeps end (10 s allowed, for a loaded machine), grandchildren and SIGTERM-ignorers included`, async () => {
      const { marker, sleep } = markedSleep();
      const fanout = startFanout([...fanoutArgv(runtime), "run", sleepersPlan(sleep), "--json", "-q"]);
      expect(await waitUntil(() => countMarked(marker) === 12, 30_000)).toBe(true);
      expect(hasWatchdog(fanout.child.pid!)).toBe(true);
      fanout.child.kill("SIGKILL");
      await fanout.closed;
      await waitUntil(() => countMarked(marker) === 0, 10_000);
      expect(countMarked(marker)).toBe(0);
      expect(await waitUntil(() => !hasWatchdog(fanout.child.pid!), 10_000)).toBe(true);
    }, 60_000);

    test(`${runtime}: the watchdog is up before the first command starts: the command finds it running, started before itself`, async () => {
      // A command started before the watchdog would have none for a moment (fanout killed then leaves it running).
      // The command's own look: the watchdog's pid, or nothing, and its own pid. Pids are handed out in turn, so a
      // watchdog started after the command has the larger one.
      const dir = tempDir();
      const look = `pgrep -f "fanout[-_]watchdog[ =]$PPID( |$)" > dog; echo $$ > me`;
      writeFileSync(join(dir, "plan.yml"), `version: 1\ntasks:\n  - { name: look, module: shell, with: { cmd: ${JSON.stringify(look)}, shell: true } }\n`);
      const [cmd, ...args] = [...fanoutArgv(runtime), "run", "plan.yml", "-q", "--no-journal"];
      const { code } = await exited(spawn(cmd!, args, { cwd: dir, stdio: "ignore" }));
      expect(code).toBe(0);
      const dogs = readFileSync(join(dir, "dog"), "utf8").split("\n").filter(Boolean).map(Number);
      const me = Number(readFileSync(join(dir, "me"), "utf8"));
      expect(dogs.length).toBe(1);
      expect(dogs[0]!).toBeLessThan(me);
    }, 60_000);

    test(`${runtime}: a clean run lets its commands finish, and leaves no watchdog behind`, async () => {
      const { sleep } = markedSleep();
      const plan = join(tempDir(), "plan.yml");
      writeFileSync(plan, `version: 1\ntasks:\n  - { name: finish, module: shell, items: [a, b], with: { cmd: ${JSON.stringify(`${sleep} 1 && echo done`)}, shell: true } }\n`);
      const fanout = startFanout([...fanoutArgv(runtime), "run", plan, "--json", "-q"]);
      expect(await waitUntil(() => fanout.stdout().includes('"task_start"'), 30_000)).toBe(true);
      expect(hasWatchdog(fanout.child.pid!)).toBe(true);
      expect(await fanout.closed).toBe(0);
      const ends = Object.values(endsById(fanout.stdout()));
      expect(ends.map((e) => [e.status, e.data.stdout])).toEqual([["ok", "done\n"], ["ok", "done\n"]]);
      expect(await waitUntil(() => !hasWatchdog(fanout.child.pid!), 10_000)).toBe(true);
    }, 60_000);
  }

  test("a run that starts no process starts no watchdog", async () => {
    const plan = join(tempDir(), "plan.yml");
    writeFileSync(plan, "version: 1\ntasks:\n  - { name: wait, module: sleep, with: { duration: 1s } }\n");
    const fanout = startFanout([...fanoutArgv("bun"), "run", plan, "--json", "-q"]);
    expect(await waitUntil(() => fanout.stdout().includes('"task_start"'), 30_000)).toBe(true);
    expect(hasWatchdog(fanout.child.pid!)).toBe(false);
    expect(await fanout.closed).toBe(0);
  }, 60_000);
});

describe("fanout ending as usual", () => {
  beforeAll(() => void compiledBinary(), 120_000);

  for (const runtime of FANOUT_RUNTIMES) {
    test(`${runtime}: a clean run leaves no group listed: its watchdog signals nothing at exit`, async () => {
      // The watchdog runs \`sleep 0.1\` only between the SIGTERM and the SIGKILL of groups still
      // listed when its pipe closes; a \`sleep\` first on PATH leaves a mark if it ever does.
      const bin = tempDir("fanout-path-");
      const mark = join(bin, "slept");
      writeFileSync(join(bin, "sleep"), `#!/bin/sh\necho "$@" >> ${JSON.stringify(mark)}\n`, { mode: 0o755 });
      const plan = join(tempDir(), "plan.yml");
      writeFileSync(plan, "version: 1\ntasks:\n  - { name: quick, module: shell, items: [a, b, c], with: { argv: [\"true\"] } }\n");
      const [cmd, ...args] = [...fanoutArgv(runtime), "run", plan, "--json", "-q"];
      const child = spawn(cmd!, args, { cwd: tempDir("fanout-cwd-"), stdio: "ignore", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
      const { code } = await exited(child);
      expect(code).toBe(0);
      expect(await waitUntil(() => !hasWatchdog(child.pid!), 10_000)).toBe(true);
      expect(existsSync(mark)).toBe(false);
    }, 60_000);
  }
});
