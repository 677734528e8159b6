/**
 * The jq recipes in docs/telemetry.md, run as a user would: each marked
 * block (`<!-- recipe: NAME -->` and the ```sh block after it) is run with
 * the real `jq` on the --json output of a real run that has failures,
 * retries, waits and several hosts, and its answer is checked against the
 * run's own events. A recipe without a check here, or a check without its
 * recipe, fails the test.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { FanoutEvent, RunEndEvent, TaskEndEvent, TaskRetryEvent, TaskStartEvent } from "./events.ts";
import { runReportPlan } from "./report_fixture.ts";

const DOC = resolve(import.meta.dirname, "../../docs/telemetry.md");
const PIPE = "fanout run plan.yml --json | ";

/** Every recipe in the doc: its name and the command after `fanout … --json | `. */
function recipes(): Map<string, string> {
  const text = readFileSync(DOC, "utf8");
  const found = new Map<string, string>();
  for (const m of text.matchAll(/<!-- recipe: ([\w-]+) -->\n[\s\S]*?```sh\n([\s\S]*?)```/g)) {
    const lines = m[2]!.trim().split("\n");
    if (lines.length !== 1 || !lines[0]!.startsWith(PIPE)) throw new Error(`recipe ${m[1]}: expected one line starting with "${PIPE}"`);
    if (found.has(m[1]!)) throw new Error(`recipe ${m[1]} is there twice`);
    found.set(m[1]!, lines[0]!.slice(PIPE.length));
  }
  return found;
}

const r = runReportPlan(["--json", "-q"]);
const stream = r.stdout;
const events: FanoutEvent[] = stream.trim().split("\n").map((l) => JSON.parse(l));
const ends = events.filter((e): e is TaskEndEvent => e.type === "task_end");
const starts = events.filter((e): e is TaskStartEvent => e.type === "task_start");
const retries = events.filter((e): e is TaskRetryEvent => e.type === "task_retry");
const summary = (events.at(-1) as RunEndEvent).summary;

/** Runs the command through sh (as a user pasting it would) with the run's stream on stdin. */
function jq(command: string): { code: number | null; stdout: string; stderr: string } {
  const out = spawnSync("/bin/sh", ["-c", command], { input: stream, encoding: "utf8", timeout: 30_000 });
  if (out.error) throw out.error;
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

const lines = (stdout: string) => stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const byDesc = <T>(list: T[], key: (x: T) => number) => [...list].sort((a, b) => key(b) - key(a));
const byName = <T extends { guard: string }>(list: T[]) => [...list].sort((a, b) => (a.guard < b.guard ? -1 : 1));

/** Recipe name → a check of its output. */
const CHECKS: Record<string, (stdout: string) => void> = {
  failed: (out) => {
    expect(lines(out)).toEqual(ends.filter((e) => e.status !== "ok").map(({ id, status, error }) => ({ id, status, error })));
  },
  "failed-stderr": (out) => {
    const expected = ends.filter((e) => e.status === "failed").flatMap((e) => [
      `${e.id}: ${e.error}`,
      ...String(e.data.stderr).split("\n").filter((l) => l !== "").slice(-5).map((l) => `    ${l}`),
    ]);
    expect(out).toBe(expected.map((l) => l + "\n").join(""));
    expect(out).toContain("check[h2]: /bin/sh: exit code 3");
    expect(out).toContain("    l2\n");
    expect(out).not.toContain("    l1\n");
  },
  slowest: (out) => {
    expect(lines(out)).toEqual(byDesc(ends, (e) => e.duration_ms).slice(0, 10).map(({ id, duration_ms }) => ({ id, duration_ms })));
  },
  "guard-waits": (out) => {
    const got = lines(out);
    const maxes = got.map((g: { max_ms: number }) => g.max_ms);
    expect(maxes).toEqual([...maxes].sort((a, b) => b - a));
    const expected = Object.entries(summary.guards).map(([guard, g]) => ({ guard, acquisitions: g.acquisitions, p95_ms: g.wait_ms.p95, max_ms: g.wait_ms.max, max_queue: g.max_queue }));
    expect(byName(got)).toEqual(byName(expected));
    // The host lock made each host's second build wait for the first.
    for (const host of ["h1", "h2", "h3"]) expect(got.find((g: { guard: string }) => g.guard === `host:${host}`)!.max_ms).toBeGreaterThan(0);
  },
  "guard-wait-totals": (out) => {
    const totals = new Map<string, { starts: number; wait_ms: number }>();
    for (const s of starts) {
      for (const guard of s.guards) {
        const t = totals.get(guard) ?? { starts: 0, wait_ms: 0 };
        totals.set(guard, { starts: t.starts + 1, wait_ms: t.wait_ms + s.wait_ms });
      }
    }
    const got = byName(lines(out));
    const expected = byName([...totals].map(([guard, t]) => ({ guard, ...t })));
    expect(got.map((g) => [g.guard, g.starts])).toEqual(expected.map((g) => [g.guard, g.starts]));
    got.forEach((g, i) => expect(g.wait_ms).toBeCloseTo(expected[i]!.wait_ms, 6));
    expect(got.find((g: { guard: string }) => g.guard === "host:h1")!.wait_ms).toBeGreaterThan(0);
  },
  "longest-waits": (out) => {
    expect(lines(out)).toEqual(byDesc(starts, (s) => s.wait_ms).slice(0, 10).map(({ id, wait_ms, guards }) => ({ id, wait_ms, guards })));
  },
  "per-host": (out) => {
    const expected = ["h1", "h2", "h3"].map((host) => {
      const counts: Record<string, unknown> = { host };
      for (const e of ends.filter((x) => x.host === host)) counts[e.status] = ((counts[e.status] as number) ?? 0) + 1;
      return counts;
    });
    expect(lines(out)).toEqual(expected);
    expect(expected[1]).toEqual({ host: "h2", ok: 3, failed: 1, skipped: 1 });
  },
  retries: (out) => {
    const ids = [...new Set(retries.map((x) => x.id))].sort();
    expect(lines(out)).toEqual(ids.map((id) => ({
      id,
      retries: retries.filter((x) => x.id === id).length,
      errors: retries.filter((x) => x.id === id).map((x) => x.error),
      final: ends.find((e) => e.id === id)!.status,
    })));
    expect(ids).toEqual(["flaky[h1]", "flaky[h2]", "flaky[h3]"]);
  },
  totals: (out) => {
    const { total, ok, failed, timed_out, skipped, cancelled, retries: n, makespan_ms } = summary;
    expect(lines(out)).toEqual([{ total, ok, failed, timed_out, skipped, cancelled, retries: n, makespan_ms }]);
  },
  "schema-check": (out) => {
    expect(out).toBe("true\n");
  },
};

describe("docs/telemetry.md recipes", () => {
  test("the run they read has failures, retries, waits and several hosts", () => {
    expect(r.code).toBe(1);
    expect(summary).toMatchObject({ total: 15, failed: 1, skipped: 1, retries: 3 });
    expect(new Set(ends.map((e) => e.host))).toEqual(new Set(["h1", "h2", "h3"]));
    expect(Math.max(...starts.map((s) => s.wait_ms))).toBeGreaterThan(0);
  });

  test("every recipe has a check and every check a recipe", () => {
    expect([...recipes().keys()].sort()).toEqual(Object.keys(CHECKS).sort());
  });

  for (const [name, command] of recipes()) {
    test(`${name}: ${command.slice(0, 60)}…`, () => {
      const out = jq(command);
      expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: "" });
      CHECKS[name]!(out.stdout);
    });
  }
});
