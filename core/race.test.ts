/**
 * race: from real runs — the winner's task_end, the losers' processes gone
 * (pgrep), their guards held until then (flock -n in the next holder), every
 * error of an all-fail race, and a race at -p 1.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runPlanText, runProcess } from "./test_helpers.ts";

describe("race", () => {
  test("the first success wins; the loser's processes are gone and its lock is not handed on before", async () => {
    // A marker no other process on the machine has in its command line.
    const marker = `900.${process.pid}${Date.now() % 100000}`;
    const log = await runPlanText(`
version: 1
parallelism: 2
tasks:
  - name: r
    kill_grace: 400ms
    race:
      # Wins, but only once the loser holds the file lock.
      - { module: shell, with: { shell: true, cmd: "while [ ! -s loser.pid ]; do sleep 0.02; done; echo won" } }
      # Holds the lock and ignores SIGTERM: it leaves only at the SIGKILL after kill_grace.
      - module: shell
        hint: host_exclusive
        with: { shell: true, cmd: "flock -n lock -c 'trap \\"\\" TERM; echo $$ > loser.pid; sleep ${marker}'" }
  - name: next
    needs: []
    hint: host_exclusive
    module: shell
    with: { shell: true, cmd: "flock -n lock -c 'echo got the lock'" }
`);
    const byId = new Map(log.ends.map((e) => [e.id, e]));
    const race = byId.get("r[localhost]")!;
    expect(race.status).toBe("ok");
    expect(race.winner).toEqual({ index: 0, module: "shell" });
    expect(race.data.stdout).toBe("won\n");
    // The loser ran: it wrote its pid.
    expect(readFileSync(join(log.dir, "loser.pid"), "utf8").trim()).toMatch(/^\d+$/);
    // Its processes are gone by the end of the run.
    const left = await runProcess(["pgrep", "-f", `sleep ${marker}`]);
    expect(left.code).toBe(1);
    // The host lock went to `next` only once the loser's processes (and so its flock) were gone.
    const next = byId.get("next[localhost]")!;
    expect({ status: next.status, error: next.error }).toEqual({ status: "ok", error: null });
    const nextStart = log.starts.find((s) => s.id === "next[localhost]")!;
    expect(nextStart.t_ms).toBeGreaterThanOrEqual(race.t_ms);
    expect(log.exitCode).toBe(0);
  }, 30_000);

  test("when every alternative fails, the instance fails with every error, and a retry runs them all again", async () => {
    const log = await runPlanText(`
version: 1
vars: { when: soon }
tasks:
  - name: r
    retries: 1
    retry_delay: 0ms
    race:
      - { module: shell, with: { shell: true, cmd: "echo x >> a.runs; echo mirror-a down >&2; exit 3" } }
      - { module: shell, with: { shell: true, cmd: "echo x >> b.runs; echo mirror-b down >&2; exit 4" } }
      # Its input is only known at run time, and is not a duration.
      - { module: sleep, with: { duration: "{{ vars.when }}" } }
`);
    const [end] = log.ends;
    expect(end!.status).toBe("failed");
    expect(end!.winner).toBeUndefined();
    expect(end!.error).toContain("every alternative failed");
    expect(end!.error).toContain("race[0] (shell): /bin/sh: exit code 3: mirror-a down");
    expect(end!.error).toContain("race[1] (shell): /bin/sh: exit code 4: mirror-b down");
    expect(end!.error).toContain("race[2] (sleep): invalid input for module sleep");
    expect(readFileSync(join(log.dir, "a.runs"), "utf8")).toBe("x\nx\n");
    expect(readFileSync(join(log.dir, "b.runs"), "utf8")).toBe("x\nx\n");
    expect(log.exitCode).toBe(1);
  }, 30_000);

  test("at -p 1 a race runs all its alternatives in its one fork slot; a later success wins", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 1
tasks:
  - name: r
    items: [1, 2]
    race:
      - { module: shell, with: { shell: true, cmd: "exit 1" } }
      - { module: shell, with: { shell: true, cmd: "echo {{ item }} >> won" } }
  - { name: after, module: debug, with: { message: done } }
`);
    expect(log.ends.map((e) => [e.id, e.status, e.winner?.index])).toEqual([
      ["r[localhost][1]", "ok", 1],
      ["r[localhost][2]", "ok", 1],
      ["after[localhost]", "ok", undefined],
    ]);
    expect(readFileSync(join(log.dir, "won"), "utf8")).toBe("1\n2\n");
    expect(log.end.summary.guards.forks!.capacity).toBe(1);
  }, 30_000);
});
