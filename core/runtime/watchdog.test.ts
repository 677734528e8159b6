/**
 * The watchdog, checked from the processes: every process it should kill is
 * found (or not) with `pgrep -f` by a marker — the path of a `sleep` linked
 * into a fresh directory.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { DENO } from "./fanout_runtimes.ts";
import { startWatchdog } from "./watchdog.ts";

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

  test("a watchdog killed by hand makes track() a no-op, not an error", () => {
    const w = startWatchdog();
    process.kill(-w.pid, "SIGKILL");
    expect(() => {
      for (let i = 0; i < 3; i++) w.track(2 ** 22 + i);
    }).not.toThrow();
  });
});
