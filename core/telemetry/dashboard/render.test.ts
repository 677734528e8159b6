import { describe, expect, test } from "bun:test";
import type { GuardLive } from "../../guards/guard_usage.ts";
import type { FanoutEvent, Status } from "../events.ts";
import { renderFrame, renderSummary } from "./render.ts";
import { DashboardState } from "./state.ts";

const guard = (name: string, kind: GuardLive["kind"], inUse: number, capacity: number, queue = 0, waitP95 = 0, waitedMs = 0): GuardLive =>
  ({ name, kind, capacity, inUse, queue, acquisitions: inUse + 3, waitedMs, waitP50: waitP95 / 2, waitP95 });

const GUARDS = [
  guard("forks", "forks", 4, 4, 2, 10, 20),
  guard("cpu", "cpu", 2, 2),
  { ...guard("io", "io", 0, 8), acquisitions: 0 },
  guard("host:web-server-with-a-rather-long-name-01.example.com", "host", 1, 1, 11, 2000, 9000),
  guard("host:web2", "host", 1, 1, 3, 500, 800),
  guard("bucket:http", "bucket", 1, 5),
];

function state(ended: [string, string, Status, number][], running: [string, string, number][]): DashboardState {
  const s = new DashboardState();
  const base = { host: "h", item: null, attempt: 1 };
  const events: FanoutEvent[] = [{ type: "run_start", plan: "demo", instances: 40 } as FanoutEvent];
  for (const [id, task, status, duration] of ended) {
    events.push({ ...base, type: "task_start", id, task, t_ms: 0, wait_ms: 0, guards: [] });
    events.push({ ...base, type: "task_end", id, task, status, t_ms: duration, duration_ms: duration, changed: false, error: null, data: {}, bytes: 0 });
  }
  for (const [id, task, at] of running) events.push({ ...base, type: "task_start", id, task, t_ms: at, wait_ms: 0, guards: [] });
  for (const e of events) s.write(e);
  return s;
}

const S = state(
  [["build[a]", "build", "ok", 1200], ["build[b]", "build", "failed", 300], ["test[a]", "test", "ok", 4000], ["test[b]", "test", "skipped", 0]],
  [["deploy[web1]", "deploy", 1000], ["deploy[web2]", "deploy", 1500], ["deploy[web3]", "deploy", 2000]],
);

describe("renderFrame", () => {
  for (const width of [60, 120]) {
    test(`every line fits in ${width - 1} columns; bar, counts, the bottleneck marked, running instances`, () => {
      const lines = renderFrame({ state: S, guards: GUARDS, nowMs: 5000, width, height: 30, color: false });
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width - 1);
      expect(lines[0]).toMatch(/^\[#+-+\] 4\/40 10% /);
      expect(lines[0]).toContain("ETA");
      expect(lines[1]).toBe("running 3  ok 2  failed 1  skipped 1");
      expect(lines[2]).toStartWith("bottleneck (11 waiting, p95 2.00s): host:web-server");
      const marked = lines.filter((l) => l.startsWith("> "));
      expect(marked).toHaveLength(1);
      expect(marked[0]).toMatch(/^> host:web-server.*1\/1 +11 +1\.00s +2\.00s$/);
      expect(lines.some((l) => /^  forks +4\/4 +2 /.test(l))).toBe(true);
      expect(lines.some((l) => /^  bucket:http +1\/5 +0 /.test(l))).toBe(true);
      // An I/O pool no one has taken is not worth a row.
      expect(lines.some((l) => l.startsWith("  io "))).toBe(false);
      expect(lines).toContain("running (3)");
      expect(lines.some((l) => /^  deploy\[web1\] +4\.00s$/.test(l))).toBe(true);
    });
  }

  test("at 120 columns the long guard name is whole; at 60 it is cut with ~", () => {
    const wide = renderFrame({ state: S, guards: GUARDS, nowMs: 5000, width: 120, height: 30, color: false });
    const narrow = renderFrame({ state: S, guards: GUARDS, nowMs: 5000, width: 60, height: 30, color: false });
    expect(wide.some((l) => l.includes("host:web-server-with-a-rather-long-name-01.example.com") || l.includes("host:web-server-with-a-rather-long-na~"))).toBe(true);
    expect(narrow.find((l) => l.startsWith("> "))).toContain("~");
  });

  test("a short terminal gets at most `height` lines, keeps the bottleneck row and says how many rows are left out", () => {
    const lines = renderFrame({ state: S, guards: GUARDS, nowMs: 5000, width: 60, height: 8, color: false });
    expect(lines.length).toBeLessThanOrEqual(8);
    expect(lines.some((l) => l.startsWith("> host:web-server"))).toBe(true);
    expect(lines.some((l) => /more guards? in use/.test(l))).toBe(true);
  });

  test("colour only when asked", () => {
    expect(renderFrame({ state: S, guards: GUARDS, nowMs: 5000, width: 60, height: 30, color: false }).join("")).not.toContain("\x1b[");
    expect(renderFrame({ state: S, guards: GUARDS, nowMs: 5000, width: 60, height: 30, color: true }).join("")).toContain("\x1b[33m");
  });

  test("no waiters: no bottleneck", () => {
    const idle = GUARDS.map((g) => ({ ...g, queue: 0 }));
    const lines = renderFrame({ state: S, guards: idle, nowMs: 5000, width: 60, height: 30, color: false });
    expect(lines[2]).toBe("bottleneck: none, nothing waits for a guard");
    expect(lines.some((l) => l.startsWith("> "))).toBe(false);
  });
});

describe("renderSummary", () => {
  for (const width of [60, 120]) {
    test(`per task tallies and time, the slowest instances, the guard that waited most, in ${width - 1} columns`, () => {
      const lines = renderSummary(S, GUARDS, width, false);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width - 1);
      expect(lines[0]).toMatch(/^task +ok +failed +skipped +cached +timed_out +time$/);
      expect(lines[1]).toMatch(/^build +1 +1 +0 +0 +0 +1\.20s$/);
      expect(lines[2]).toMatch(/^test +1 +0 +1 +0 +0 +4\.00s$/);
      // Still running: no end, no time yet.
      expect(lines[3]).toMatch(/^deploy +0 +0 +0 +0 +0 +-$/);
      expect(lines[4]).toBe("slowest:");
      expect(lines[5]).toMatch(/^  test\[a\] +4\.00s$/);
      expect(lines[7]).toMatch(/^  build\[b\] +300ms failed$/);
      expect(lines.at(-1)).toMatch(/^waited most \(9\.00s over 4 starts\): host:web-server/);
    });
  }

  test("below 60 columns the tally titles are short", () => {
    const lines = renderSummary(S, GUARDS, 45, false);
    expect(lines[0]).toMatch(/^task +ok +fail +skip +cache +t\/o +time$/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(44);
  });
});
