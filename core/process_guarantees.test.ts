/**
 * The guarantees of hints, judged from the processes themselves, never only
 * from fanout's own events: a `flock -n` taken by every command under a host
 * lock fails if two of them ever hold the lock at once, and `pgrep` finds any
 * process that outlived the run.
 */
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { maxOverlap, maxStartsInWindow, runPlanText, writeFiles } from "./test_helpers.ts";

const ROOT = resolve(import.meta.dir, "..");

/** A `sleep` whose command line carries a marker unique to this test, for pgrep. */
function markedSleep(dir: string): { path: string; marker: string } {
  const marker = `fanout-sleep-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const path = join(dir, marker);
  symlinkSync(spawnSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim(), path);
  return { path, marker };
}

function survivors(marker: string): string {
  return spawnSync("pgrep", ["-af", marker], { encoding: "utf8" }).stdout.trim();
}

/** Lines a file holds, or none when it was never written. */
function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : [];
}

describe("a lock is held until the processes that took it are gone", () => {
  test("timed-out attempts that ignore SIGTERM, their retries and the next holder never share the lock (flock -n)", async () => {
    // Each command takes the lock file with flock -n: if fanout handed the host
    // lock on while an earlier command still ran, flock -n would fail.
    const take = (what: string) => `|\n        flock -n lock -c 'echo ${what} >> held; trap "" TERM; sleep 2' || echo ${what} >> conflicts`;
    const log = await runPlanText(`
version: 1
parallelism: 4
tasks:
  - name: slow
    module: shell
    hint: host_exclusive
    timeout: 500ms
    retries: 2
    retry_delay: 1ms
    with:
      shell: true
      cmd: ${take("slow")}
  - name: next
    module: shell
    hint: host_exclusive
    needs: []
    with:
      shell: true
      cmd: ${take("next")}
`, { killGraceMs: 300 });
    expect(lines(join(log.dir, "conflicts"))).toEqual([]);
    expect(lines(join(log.dir, "held")).sort()).toEqual(["next", "slow", "slow", "slow"]);
    const statuses = Object.fromEntries(log.ends.map((e) => [e.id, e.status]));
    expect(statuses).toEqual({ "slow[localhost]": "timed_out", "next[localhost]": "ok" });
  }, 30_000);

  test("a child that outlives its leader keeps the lock until it is killed, escalation included", async () => {
    // The leader exits at once on SIGTERM; its background child ignores SIGTERM
    // and holds the lock. Only SIGKILL to the whole group ends it.
    const log = await runPlanText(`
version: 1
parallelism: 4
tasks:
  - name: first
    module: shell
    hint: host_exclusive
    timeout: 1s
    with: { shell: true, cmd: "(flock -n lock -c 'trap \\"\\" TERM; echo first >> held; sleep 3' || echo first >> conflicts) & sleep 3" }
  - name: second
    module: shell
    hint: host_exclusive
    needs: []
    with: { shell: true, cmd: "flock -n lock -c 'echo second >> held' || echo second >> conflicts" }
`, { killGraceMs: 300 });
    expect(lines(join(log.dir, "conflicts"))).toEqual([]);
    expect(lines(join(log.dir, "held"))).toEqual(["first", "second"]);
    // task_end is written when the processes are gone: after the timeout and the grace.
    const first = log.ends.find((e) => e.id === "first[localhost]")!;
    expect(first.status).toBe("timed_out");
    expect(first.duration_ms).toBeGreaterThanOrEqual(1000 + 300);
  }, 30_000);

  test("a task's own kill_grace wins over the run's: a command ignoring SIGTERM keeps the lock that long, then is killed", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 4
tasks:
  - name: stubborn
    module: shell
    hint: host_exclusive
    timeout: 300ms
    kill_grace: 1500ms
    with: { shell: true, cmd: "trap '' TERM; flock -n -E 99 lock -c 'sleep 10'; [ $? -ne 99 ] || echo stubborn >> conflicts" }
  - name: next
    module: shell
    hint: host_exclusive
    needs: []
    with: { shell: true, cmd: "flock -n -E 99 lock -c true; [ $? -ne 99 ] || echo next >> conflicts" }
`, { killGraceMs: 50 });
    expect(lines(join(log.dir, "conflicts"))).toEqual([]);
    const stubborn = log.ends.find((e) => e.id === "stubborn[localhost]")!;
    expect(stubborn.status).toBe("timed_out");
    // Killed no sooner than the task's grace after the timeout: the run's 50 ms did not apply.
    expect(stubborn.duration_ms).toBeGreaterThanOrEqual(300 + 1500);
    expect(log.ends.find((e) => e.id === "next[localhost]")!.status).toBe("ok");
  }, 30_000);

  test("a command that exits leaving a process in its group: the lock waits for that process too", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 4
tasks:
  - name: leaves
    module: shell
    hint: host_exclusive
    with: { shell: true, cmd: "(trap '' TERM; flock -n lock -c 'echo leaves >> held; sleep 3' || echo leaves >> conflicts) & sleep 0.2" }
  - name: after
    module: shell
    hint: host_exclusive
    needs: []
    with: { shell: true, cmd: "flock -n lock -c 'echo after >> held' || echo after >> conflicts" }
`, { killGraceMs: 300 });
    expect(lines(join(log.dir, "conflicts"))).toEqual([]);
    expect(lines(join(log.dir, "held"))).toEqual(["leaves", "after"]);
    expect(log.ends.map((e) => e.status)).toEqual(["ok", "ok"]);
  }, 30_000);

  test("--fail-fast: the cancelled command's group is gone before the run ends, and nothing else took its lock", async () => {
    const dir = writeFiles({});
    const sleep = markedSleep(dir);
    const log = await runPlanText(`
version: 1
parallelism: 4
tasks:
  - name: holds
    module: shell
    hint: host_exclusive
    with: { shell: true, cmd: "flock -n lock -c 'trap \\"\\" TERM; ${sleep.path} 30' || echo holds >> conflicts" }
  - name: fails
    module: shell
    needs: []
    with: { shell: true, cmd: "sleep 0.2; exit 3" }
  - name: waits
    module: shell
    hint: host_exclusive
    needs: []
    with: { shell: true, cmd: "flock -n lock -c true || echo waits >> conflicts" }
`, { killGraceMs: 300, failFast: true });
    expect(survivors(sleep.marker)).toBe("");
    expect(lines(join(log.dir, "conflicts"))).toEqual([]);
    const statuses = Object.fromEntries(log.ends.map((e) => [e.id, e.status]));
    expect(statuses).toEqual({ "holds[localhost]": "cancelled", "fails[localhost]": "failed", "waits[localhost]": "cancelled" });
    expect(log.exitCode).toBe(1);
  }, 30_000);
});

describe("signals to fanout", () => {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    test(`${signal}: running commands (ignoring SIGTERM) are killed, run_end is written, exit 130`, async () => {
      const dir = writeFiles({});
      const sleep = markedSleep(dir);
      const plan = `version: 1
parallelism: 4
tasks:
  - { name: s, module: shell, items: [1, 2, 3], with: { shell: true, cmd: "trap '' TERM; ${sleep.path} 30" } }
`;
      const planFile = join(dir, "plan.yml");
      await Bun.write(planFile, plan);
      const child = spawn(process.execPath, ["--no-install", join(ROOT, "cli.ts"), "run", planFile, "--json", "-q", "--kill-grace", "300ms"], { cwd: dir });
      let stdout = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      // Wait until all three have started, as the processes show.
      for (let i = 0; i < 300 && survivors(sleep.marker).split("\n").filter(Boolean).length < 3; i++) await Bun.sleep(20);
      child.kill(signal);
      const code = await exited;
      expect(code).toBe(130);
      const events = stdout.trim().split("\n").map((l) => JSON.parse(l));
      expect(events.at(-1).type).toBe("run_end");
      expect(events.filter((e) => e.type === "task_end").map((e) => e.status)).toEqual(["cancelled", "cancelled", "cancelled"]);
      expect(survivors(sleep.marker)).toBe("");
    }, 30_000);
  }
});

/** [start, end] spans the commands wrote themselves ("<start_ns> <end_ns> <task>" lines). */
function spans(path: string): { task: string; start: number; end: number }[] {
  return lines(path).map((l) => {
    const [start, end, task] = l.split(" ");
    return { task: task!, start: Number(start), end: Number(end) };
  });
}

describe("the strictest declared limit holds", () => {
  test("host locks declared with limits 2 and 1: never more than 1 at once while a limit-1 instance runs, per the processes' own clocks", async () => {
    const cmd = (task: string) => `s=$(date +%s%N); sleep 0.15; echo "$s $(date +%s%N) ${task}" >> spans-{{ host }}`;
    const log = await runPlanText(`
version: 1
hosts: [h1, h2]
parallelism: 8
tasks:
  - { name: narrow, module: shell, hint: host_exclusive, items: [1, 2], with: { shell: true, cmd: '${cmd("narrow")}' } }
  - { name: wide, module: shell, hint: { kind: host_exclusive, limit: 2 }, needs: [], items: [1, 2, 3, 4], with: { shell: true, cmd: '${cmd("wide")}' } }
`);
    expect(log.exitCode).toBe(0);
    const start = log.events[0] as { warnings: string[] };
    expect(start.warnings).toContain(
      "host:h1 is declared with limit 1 (task narrow) and limit 2 (task wide): each instance runs only while the holders, itself included, are within its own limit and every holder's",
    );
    let wideOverlaps = 0;
    for (const host of ["h1", "h2"]) {
      const all = spans(join(log.dir, `spans-${host}`));
      expect(all.length).toBe(2 + 4);
      // A narrow instance runs alone on its host…
      for (const s of all.filter((x) => x.task === "narrow")) {
        const others = all.filter((o) => o !== s && o.start < s.end && o.end > s.start);
        expect({ host, narrow_beside: others.length }).toEqual({ host, narrow_beside: 0 });
      }
      // …and never more than two hold the lock at once.
      const most = maxOverlap(all);
      expect({ host, most: most <= 2 }).toEqual({ host, most: true });
      wideOverlaps += most - 1;
    }
    // The wide declaration is not weakened to the narrow one when it runs alone: wide instances did pair up.
    expect(wideOverlaps).toBeGreaterThan(0);
  }, 30_000);

  test("a bucket declared with two rates runs at the lower rate and burst, per the commands' own start times", async () => {
    const cmd = `date +%s%N >> starts`;
    const log = await runPlanText(`
version: 1
parallelism: 8
tasks:
  - { name: slow, module: shell, hint: { kind: rate_limited, per_second: 20, burst: 1, key: api }, items: [1, 2, 3, 4], with: { shell: true, cmd: '${cmd}' } }
  - { name: fast, module: shell, hint: { kind: rate_limited, per_second: 100, burst: 3, key: api }, needs: [], items: [1, 2, 3, 4], with: { shell: true, cmd: '${cmd}' } }
`);
    expect(log.exitCode).toBe(0);
    expect((log.events[0] as { warnings: string[] }).warnings).toContain(
      "bucket:api is declared with per_second 20, burst 1 (task slow) and per_second 100, burst 3 (task fast): it runs at the lowest per_second and the lowest burst of these",
    );
    const starts = lines(join(log.dir, "starts")).map((l) => Number(l) / 1e6);
    expect(starts.length).toBe(8);
    // One token per 50 ms after a burst of 1: within 40 ms at most one start, two allowing for exec jitter.
    expect(maxStartsInWindow(starts, 40)).toBeLessThanOrEqual(2);
    expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThanOrEqual(7 * 50 * 0.9);
  }, 30_000);

  test("--dry-run reports a conflict before anything runs", () => {
    const dir = writeFiles({
      "plan.yml": `version: 1
tasks:
  - { name: a, module: shell, hint: { kind: host_exclusive, limit: 2 }, with: { argv: [touch, ran] } }
  - { name: b, module: shell, hint: host_exclusive, with: { argv: [touch, ran] } }
`,
    });
    const r = spawnSync(process.execPath, ["--no-install", join(ROOT, "cli.ts"), "run", "plan.yml", "--dry-run"], { cwd: dir, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("warning: host:localhost is declared with limit 2 (task a) and limit 1 (task b)");
    expect(existsSync(join(dir, "ran"))).toBe(false);
  });
});
