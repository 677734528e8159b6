/** Outputs folded from the events of a real run: NDJSON lines, human lines, the summary. */
import { describe, expect, test } from "bun:test";
import { runPlanText } from "../test_helpers.ts";
import { HumanSink } from "./human.ts";
import { NdjsonSink, type Writable } from "./ndjson.ts";

const PLAN = `
version: 1
hosts: [h1, h2]
tasks:
  - { name: build, module: shell, with: { cmd: 'test {{ host }} = h1', shell: true } }
  - { name: deploy, module: debug, with: { message: "deployed {{ host }}" } }
`;

describe("telemetry outputs", () => {
  test("NDJSON: one parseable event per line, in order, run_start first and run_end last", async () => {
    const chunks: string[] = [];
    const out: Writable = { write: (chunk, cb) => (chunks.push(chunk), cb?.(), true) };
    const log = await runPlanText(PLAN, { sinks: [new NdjsonSink(out)] });
    const lines = chunks.join("").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(log.events.map((e) => e.type));
    expect(lines[0].type).toBe("run_start");
    expect(lines.at(-1).type).toBe("run_end");
  });

  test("NDJSON: a closed pipe silences the sink instead of failing the run", async () => {
    let writes = 0;
    const broken: Writable = { write: (_chunk, cb) => (writes++, cb?.(new Error("EPIPE")), false) };
    const log = await runPlanText(PLAN, { sinks: [new NdjsonSink(broken)] });
    expect(log.exitCode).toBe(1);
    expect(writes).toBe(1);
  });

  test("human: one line per instance, then the summary, no colour when not asked", async () => {
    let text = "";
    await runPlanText(PLAN, { sinks: [new HumanSink((s) => (text += s), { color: false })] });
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("fanout: plan plan: 4 instances, forks 2 (auto)");
    expect(lines).toContain("skipped   deploy[h2] 0ms: skipped: build[h2] did not succeed");
    expect(lines.some((l) => /^failed    build\[h2\] \d+ms changed|^failed    build\[h2\] \d+ms: \/bin\/sh: exit code 1$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^2 ok, 1 failed, 1 skipped of 4 in \d+ms$/);
    expect(text).not.toContain("\x1b[");
  });

  test("summary: counts agree with the task_end events", async () => {
    const log = await runPlanText(PLAN);
    const s = log.end.summary;
    const count = (status: string) => log.ends.filter((e) => e.status === status).length;
    expect([s.total, s.ok, s.failed, s.skipped]).toEqual([log.ends.length, count("ok"), count("failed"), count("skipped")]);
    expect(s.changed).toBe(log.ends.filter((e) => e.changed).length);
    expect(s.wait_ms.max).toBeGreaterThanOrEqual(s.wait_ms.p50);
    expect(s.peak_rss_bytes).toBeGreaterThan(0);
  });
});

test("human: above 500 instances, successes are counted in a progress line at most every 2 s", () => {
  let text = "";
  const sink = new HumanSink((s) => (text += s), { color: false });
  const total = 1000;
  sink.write({ type: "run_start", schema: 1, schema_version: 1, version: "x", commit: "x", runtime: "x", plan: "big", t_ms: 0, ts: "", parallelism: { mode: "manual", effective: 8 }, instances: total, hosts: ["h"], tokens: { cpu: 1, io: 1 }, io_pools: {}, warnings: [] });
  for (let i = 0; i < total; i++) {
    const status = i === 10 ? "failed" : "ok";
    sink.write({ type: "task_end", id: `t[h][${i}]`, task: "t", host: "h", item: i, attempt: 1, status, changed: false, t_ms: i * 5, duration_ms: 1, error: status === "ok" ? null : "boom", data: {}, bytes: 0 });
  }
  const lines = text.trimEnd().split("\n");
  expect(lines).toEqual([
    "fanout: plan big: 1000 instances, forks 8 (manual)",
    "failed    t[h][10] 1ms: boom",
    "progress  401/1000 ended (40%), 1 not ok, at 2.00s",
    "progress  801/1000 ended (80%), 1 not ok, at 4.00s",
  ]);
});
