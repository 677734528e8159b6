/**
 * The scheduler's guarantees, checked from the event log of real runs:
 * real modules, real timers, real processes.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { intervals, maxOverlap, maxStartsInWindow, runPlanText } from "./test_helpers.ts";

const FIXTURES = resolve(import.meta.dir, "../fixtures/plugins");

const byTask = (name: string) => (i: { start_event: { task: string } }) => i.start_event.task === name;

describe("Scheduler › fork limit", () => {
  test("never runs more than the fork limit, and uses all of it", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 3
tasks:
  - { name: s, module: sleep, items: [1,2,3,4,5,6,7,8,9,10,11,12], with: { duration: 20ms } }
`);
    expect(log.exitCode).toBe(0);
    expect(maxOverlap(intervals(log.events))).toBe(3);
    expect(log.end.summary.guards.forks!.capacity).toBe(3);
  });
});

describe("Scheduler › host_exclusive", () => {
  test("no two instances on one host overlap, while hosts run side by side", async () => {
    const log = await runPlanText(`
version: 1
hosts: [h1, h2, h3]
parallelism: 8
tasks:
  - { name: lock, module: sleep, hint: host_exclusive, items: [a,b,c,d], with: { duration: 15ms } }
`);
    const all = intervals(log.events);
    for (const host of ["h1", "h2", "h3"]) {
      expect(maxOverlap(all.filter((i) => i.start_event.host === host))).toBe(1);
    }
    expect(maxOverlap(all)).toBe(3);
    expect(log.starts.every((s) => s.guards.includes(`host:${s.host}`))).toBe(true);
  });

  test("a key template and a limit: at most `limit` at once per rendered key", async () => {
    const log = await runPlanText(`
version: 1
hosts: [a1, a2, a3, b1]
parallelism: 10
vars: { pool: lb-east }
tasks:
  - name: drain
    module: sleep
    hint: { kind: host_exclusive, key: "{{ vars.pool }}", limit: 2 }
    items: [1, 2]
    with: { duration: 15ms }
`);
    const all = intervals(log.events);
    expect(maxOverlap(all)).toBe(2);
    expect(new Set(log.starts.flatMap((s) => s.guards))).toEqual(new Set(["host:lb-east"]));
  });
});

describe("Scheduler › global_exclusive", () => {
  test("one at a time across hosts; different groups do not exclude each other", async () => {
    const log = await runPlanText(`
version: 1
hosts: [h1, h2, h3]
parallelism: 8
tasks:
  - { name: x, module: sleep, hint: global_exclusive, with: { duration: 20ms } }
  - { name: y, module: sleep, hint: { kind: global_exclusive, group: other }, with: { duration: 20ms }, needs: [] }
`);
    const all = intervals(log.events);
    expect(maxOverlap(all.filter(byTask("x")))).toBe(1);
    expect(maxOverlap(all.filter(byTask("y")))).toBe(1);
    // The two groups ran at the same time at some point.
    expect(maxOverlap(all)).toBe(2);
  });
});

describe("Scheduler › rate_limited", () => {
  test("no window holds more starts than burst + per_second × window", async () => {
    const perSecond = 40;
    const burst = 2;
    const log = await runPlanText(`
version: 1
parallelism: 16
tasks:
  - name: api
    module: sleep
    hint: { kind: rate_limited, per_second: ${perSecond}, burst: ${burst} }
    items: [1,2,3,4,5,6,7,8,9,10,11,12,13,14]
    with: { duration: 1ms }
`);
    expect(log.exitCode).toBe(0);
    const times = log.starts.map((s) => s.t_ms);
    for (const w of [25, 100, 250]) {
      expect(maxStartsInWindow(times, w)).toBeLessThanOrEqual(burst + Math.floor((perSecond * w) / 1000));
    }
    expect(log.end.summary.guards["bucket:sleep"]!.acquisitions).toBe(14);
  });

  test("instances waiting for tokens hold no fork slot: other work runs meanwhile", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 2
tasks:
  - { name: slow-api, module: debug, hint: { kind: rate_limited, per_second: 10, burst: 1 }, items: [1,2,3], with: { message: x } }
  - { name: other, module: sleep, items: [1,2,3,4], with: { duration: 5ms }, needs: [] }
`);
    const apiStarts = log.starts.filter((s) => s.task === "slow-api").map((s) => s.t_ms).sort((a, b) => a - b);
    const otherEnds = log.ends.filter((e) => e.task === "other").map((e) => e.t_ms);
    // All the other work finished before the rate limit let the second call through.
    expect(Math.max(...otherEnds)).toBeLessThan(apiStarts[1]!);
  });
});

describe("Scheduler › no head-of-line blocking", () => {
  test("parallel work fills the slots that exclusive work cannot use", async () => {
    const ms = 40;
    const log = await runPlanText(`
version: 1
parallelism: 4
tasks:
  - { name: excl, module: sleep, hint: host_exclusive, items: [1,2,3,4,5,6,7,8,9,10], with: { duration: ${ms}ms } }
  - { name: par, module: sleep, items: [${Array.from({ length: 30 }, (_, i) => i).join(",")}], with: { duration: ${ms}ms }, needs: [] }
`);
    const all = intervals(log.events);
    expect(maxOverlap(all.filter(byTask("excl")))).toBe(1);
    // While the exclusive chain runs, the other three slots are busy.
    const firstExclEnd = Math.min(...all.filter(byTask("excl")).map((i) => i.end));
    const parStartedEarly = all.filter(byTask("par")).filter((i) => i.start < firstExclEnd).length;
    expect(parStartedEarly).toBe(3);
    // Lower bound max(10 × 40, 40 × 40 / 4) = 400 ms; a generous factor for a shared machine.
    expect(log.end.summary.makespan_ms).toBeLessThan(10 * ms * 2.5);
  });
});

describe("Scheduler › dependencies and failures", () => {
  test("by default a task waits for the previous task on the same host", async () => {
    const log = await runPlanText(`
version: 1
hosts: [h1, h2]
parallelism: 4
tasks:
  - { name: first, module: sleep, with: { duration: 15ms } }
  - { name: second, module: debug, with: { message: "{{ host }}" } }
`);
    for (const host of ["h1", "h2"]) {
      const firstEnd = log.ends.find((e) => e.task === "first" && e.host === host)!.t_ms;
      const secondStart = log.starts.find((s) => s.task === "second" && s.host === host)!.t_ms;
      expect(secondStart).toBeGreaterThanOrEqual(firstEnd);
    }
  });

  test("keep-going: dependents of a failure are skipped, everything else runs, exit 1", async () => {
    const log = await runPlanText(`
version: 1
hosts: [h1, h2]
tasks:
  - { name: build, module: shell, with: { cmd: 'test {{ host }} = h2', shell: true } }
  - { name: deploy, module: debug, with: { message: ok } }
  - { name: after, module: debug, with: { message: ok } }
`);
    const status = Object.fromEntries(log.ends.map((e) => [e.id, e.status]));
    expect(status).toEqual({
      "build[h1]": "failed",
      "build[h2]": "ok",
      "deploy[h1]": "skipped",
      "deploy[h2]": "ok",
      "after[h1]": "skipped",
      "after[h2]": "ok",
    });
    expect(log.exitCode).toBe(1);
    expect(log.ends.find((e) => e.id === "deploy[h1]")!.error).toContain("build[h1]");
  });

  test("fail-fast: the first failure cancels running instances and starts nothing more", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 2
tasks:
  - { name: long, module: sleep, with: { duration: 10s } }
  - { name: bad, module: shell, with: { argv: [sh, -c, "sleep 0.05; exit 1"] }, needs: [] }
  - { name: later, module: sleep, items: [1,2,3], with: { duration: 1ms }, needs: [] }
`, { failFast: true });
    const status = Object.fromEntries(log.ends.map((e) => [e.id, e.status]));
    expect(status["bad[localhost]"]).toBe("failed");
    expect(status["long[localhost]"]).toBe("cancelled");
    expect(["later[localhost][1]", "later[localhost][2]", "later[localhost][3]"].map((id) => status[id])).toEqual(["cancelled", "cancelled", "cancelled"]);
    expect(log.starts.some((s) => s.task === "later")).toBe(false);
    expect(log.exitCode).toBe(1);
    expect(log.end.summary.makespan_ms).toBeLessThan(10_000);
  });

  test("every instance ends exactly once, whatever happened", async () => {
    const log = await runPlanText(`
version: 1
hosts: [h1, h2, h3]
tasks:
  - { name: a, module: shell, with: { cmd: 'test {{ host }} != h2', shell: true } }
  - { name: b, module: sleep, items: [1, 2], with: { duration: 1ms } }
  - { name: c, module: debug, with: { message: x }, needs: [a] }
`);
    const ids = log.ends.map((e) => e.id);
    expect(ids.length).toBe(3 + 6 + 3);
    expect(new Set(ids).size).toBe(ids.length);
    expect(log.end.summary.total).toBe(12);
  });
});

describe("Scheduler › retries, timeouts and misbehaving modules", () => {
  test("retries with backoff, holding no guard while backing off", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 4
tasks:
  - name: flaky
    module: shell
    hint: host_exclusive
    retries: 2
    retry_delay: 60ms
    with: { cmd: 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; test $n -ge 2', shell: true }
  - { name: neighbour, module: sleep, hint: host_exclusive, with: { duration: 5ms }, needs: [] }
`);
    const retries = log.events.filter((e) => e.type === "task_retry");
    expect(retries.map((r) => (r as { attempt: number }).attempt)).toEqual([1, 2]);
    const end = log.ends.find((e) => e.task === "flaky")!;
    expect([end.status, end.attempt]).toEqual(["ok", 3]);
    // The neighbour needs the same host lock and got it during a backoff.
    const flaky = intervals(log.events).filter(byTask("flaky"));
    const n = intervals(log.events).find(byTask("neighbour"))!;
    expect(n.start).toBeGreaterThanOrEqual(flaky[0]!.end);
    expect(n.end).toBeLessThanOrEqual(flaky[flaky.length - 1]!.start);
    expect(log.end.summary.retries).toBe(2);
  });

  test("a timeout ends the instance as timed_out and kills its process", async () => {
    const log = await runPlanText(`
version: 1
tasks:
  - { name: slow, module: shell, timeout: 100ms, with: { cmd: 'echo $$ > pid; exec sleep 30', shell: true } }
`);
    const end = log.ends[0]!;
    expect(end.status).toBe("timed_out");
    expect(end.error).toContain("timed out after 100ms");
    expect(log.exitCode).toBe(1);
  });

  test("a module that hangs and ignores its signal is reported stuck after the grace, and its lock is never handed on", async () => {
    const log = await runPlanText(`
version: 1
parallelism: 4
plugins: { hangs: ${join(FIXTURES, "hangs.ts")} }
tasks:
  - { name: stuck, module: hangs, timeout: 50ms, hint: host_exclusive }
  - { name: same_lock, module: debug, with: { message: x }, hint: host_exclusive, needs: [] }
  - { name: fine, module: debug, with: { message: ok }, needs: [] }
`, { killGraceMs: 100 });
    const byId = Object.fromEntries(log.ends.map((e) => [e.id, e]));
    expect(byId["stuck[localhost]"]).toMatchObject({ status: "cancelled", stuck: true });
    expect(byId["stuck[localhost]"]!.error).toContain("timed out after 50ms");
    expect(byId["stuck[localhost]"]!.error).toContain("stuck");
    expect(byId["same_lock[localhost]"]).toMatchObject({ status: "skipped", error: "skipped: host:localhost is held by stuck[localhost], which is stuck" });
    expect(byId["fine[localhost]"]!.status).toBe("ok");
    expect(log.starts.map((e) => e.id)).not.toContain("same_lock[localhost]");
    expect(log.end.summary.stuck).toBe(1);
    expect(log.exitCode).toBe(1);
  });

  test("a module that throws, or returns data JSON cannot hold, fails alone", async () => {
    const log = await runPlanText(`
version: 1
plugins: { throws: ${join(FIXTURES, "throws.ts")}, weird: ${join(FIXTURES, "unserialisable.ts")} }
tasks:
  - { name: t, module: throws, with: { message: disk full } }
  - { name: w, module: weird, needs: [] }
  - { name: fine, module: debug, with: { message: ok }, needs: [] }
`);
    const byId = Object.fromEntries(log.ends.map((e) => [e.id, e]));
    expect(byId["t[localhost]"]!.status).toBe("failed");
    expect(byId["t[localhost]"]!.error).toBe("disk full");
    expect(byId["w[localhost]"]!.status).toBe("failed");
    expect(byId["w[localhost]"]!.error).toContain("not JSON-serialisable");
    expect(byId["fine[localhost]"]!.status).toBe("ok");
  });
});

test("Scheduler › a module cannot change the vars or items other instances see", async () => {
  const log = await runPlanText(`
version: 1
vars: { pkg: nginx, nested: { list: [a] } }
plugins: { mutates: ${join(FIXTURES, "mutates.ts")} }
parallelism: 1
tasks:
  - { name: m, module: mutates, items: [{ name: one }, { name: two }] }
`);
  for (const end of log.ends) expect(end.data.after).toBe(end.data.before);
  expect(log.ends.map((e) => e.item)).toEqual([{ name: "one" }, { name: "two" }]);
});

test("Scheduler › an input without templates is checked once and shared: a module cannot change what the next instance is handed", async () => {
  const log = await runPlanText(`
version: 1
plugins: { mutates: ${join(FIXTURES, "mutates_input.ts")} }
parallelism: 1
tasks:
  - { name: m, module: mutates, items: [a, b, c], with: { list: [one], name: n } }
`);
  expect(log.ends.map((e) => [e.status, e.data.before])).toEqual(Array(3).fill(["ok", '{"list":["one"],"name":"n"}']));
});

describe("Scheduler › cancellation", () => {
  test("the run waits for an aborted module to finish cleaning up", async () => {
    const log = await runPlanText(`
version: 1
plugins: { slow: ${join(FIXTURES, "slow_cleanup.ts")} }
tasks:
  - { name: s, module: slow, timeout: 50ms }
`);
    expect(log.ends[0]!.status).toBe("timed_out");
    expect(readFileSync(join(log.dir, "cleaned-up"), "utf8")).toBe("yes");
  });

  test("aborting the root signal cancels running and queued work, kills the process group, exit 130", async () => {
    const controller = new AbortController();
    const started = runPlanText(`
version: 1
parallelism: 2
tasks:
  - { name: child, module: shell, with: { cmd: 'sleep 30 & echo $! > pid; wait', shell: true } }
  - { name: queued, module: sleep, items: [1,2,3], with: { duration: 1s }, needs: [] }
`, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("SIGINT")), 300);
    const log = await started;
    expect(log.exitCode).toBe(130);
    expect(log.end.summary.interrupted).toBe(true);
    expect(log.ends.map((e) => e.status)).toEqual(["cancelled", "cancelled", "cancelled", "cancelled"]);
    // The backgrounded grandchild was in the killed process group.
    const pid = Number(readFileSync(join(log.dir, "pid"), "utf8"));
    expect(pid).toBeGreaterThan(0);
    expect(await gone(pid)).toBe(true);
  });
});

/**
 * True once `pid` no longer runs: gone, or a zombie (killed, and waiting for
 * an init that may reap slowly). Polls briefly: signals arrive asynchronously.
 */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    let state: string | undefined;
    try {
      state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    } catch {
      return true;
    }
    if (state === "Z" || state === "X") return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe("Scheduler › telemetry", () => {
  test("task_start carries wait_ms and held guards; run_end summarises every guard", async () => {
    const log = await runPlanText(`
version: 1
hosts: [h1]
parallelism: 2
tasks:
  - { name: a, module: sleep, hint: host_exclusive, items: [1,2,3], with: { duration: 10ms }, resources: { cpu: 1 } }
`, { cpuTokens: 2 });
    expect(log.starts.map((s) => s.guards)).toEqual([["cpu", "host:h1"], ["cpu", "host:h1"], ["cpu", "host:h1"]]);
    expect(log.starts[2]!.wait_ms).toBeGreaterThan(log.starts[0]!.wait_ms);
    const host = log.end.summary.guards["host:h1"]!;
    expect(host.acquisitions).toBe(3);
    expect(host.max_queue).toBeGreaterThanOrEqual(1);
    expect(host.busy_fraction).toBeGreaterThan(0.5);
    expect(host.wait_ms.max).toBeGreaterThan(0);
  });
});


test("Scheduler › an exception inside the loop fails the run loudly instead of hanging it", async () => {
  const { buildGraph } = await import("./graph.ts");
  const { GuardSet } = await import("./guards/guard_set.ts");
  const { loadPlan } = await import("./plan/load.ts");
  const { Scheduler } = await import("./scheduler.ts");
  const { writeFiles } = await import("./test_helpers.ts");
  const dir = writeFiles({ "plan.yml": "version: 1\ntasks:\n  - { name: a, module: sleep, items: [1, 2], with: { duration: 1ms } }\n" });
  const plan = await loadPlan(join(dir, "plan.yml"));
  const guards = new GuardSet({ cpu: 1, io: [{ name: "io", capacity: 1, sequentialIoWeight: 1 }] });
  // A sink must never throw; one that does stands in for a bug in our own loop.
  const emit = (e: { type: string }) => {
    if (e.type === "task_end") throw new Error("broken sink");
  };
  const scheduler = new Scheduler({ plan, graph: buildGraph(plan), forks: 1, guards, failFast: false, emit });
  await expect(scheduler.run()).rejects.toThrow("broken sink");
});
