/** DashboardSink on a real run, with a recording terminal whose timer ticks when the test says. */
import { describe, expect, test } from "bun:test";
import { realClock } from "../../runtime/clock.ts";
import { runPlanText } from "../../test_helpers.ts";
import type { EventSink } from "../events.ts";
import { type DashboardTerminal, DashboardSink } from "./sink.ts";

/** A terminal that records writes; its one timer runs only when tick() is called. */
class RecordingTerminal implements DashboardTerminal {
  writes: string[] = [];
  columns = 100;
  rows = 40;
  timer: (() => void) | undefined;
  resize: (() => void) | undefined;
  write(text: string): void {
    this.writes.push(text);
  }
  size() {
    return { columns: this.columns, rows: this.rows };
  }
  onResize(listener: () => void) {
    this.resize = listener;
    return () => (this.resize = undefined);
  }
  every(fn: () => void) {
    this.timer = fn;
    return () => (this.timer = undefined);
  }
  tick(): void {
    this.timer?.();
  }
}

const PLAN = `
version: 1
hosts: [h1]
parallelism: 4
tasks:
  - { name: deploy, module: sleep, hint: host_exclusive, items: [1, 2, 3], with: { duration: 30ms } }
  - { name: broken, module: shell, needs: [], with: { cmd: "echo it broke >&2; exit 3", shell: true } }
`;

const strip = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");
/** The frame's lines in a write: from the progress bar on (what goes above it comes first). */
function frameOf(write: string): string[] {
  const lines = strip(write).split("\n").slice(0, -1);
  return lines.slice(lines.findIndex((l) => /^(\r(\x1b\[\d+A)?\x1b\[J)?\[[#-]*\] /.test(l)));
}
/** How far up a write moves before drawing: its \x1b[nA. */
const movedUp = (text: string) => Number(/^\r\x1b\[(\d+)A/.exec(text)?.[1] ?? 0);

async function run(onStart: (term: RecordingTerminal) => void) {
  const term = new RecordingTerminal();
  const dashboard = new DashboardSink(term, { color: false, clock: realClock });
  // After the dashboard: a frame drawn at each start sees the scheduler as it is then.
  const ticker: EventSink = { write: (e) => e.type === "task_start" && onStart(term) };
  const log = await runPlanText(PLAN, { sinks: [dashboard, ticker], watchGuards: (now) => dashboard.watch(now) });
  return { term, log };
}

describe("DashboardSink", () => {
  test("frames name the guard instances wait for; each redraw moves up over the last frame; failures go above it", async () => {
    const { term, log } = await run((t) => t.tick());
    expect(log.exitCode).toBe(1);
    const frames = term.writes.slice(0, -1);
    expect(frames.length).toBeGreaterThan(3);
    // The second deploy starts while the third waits for the host lock.
    expect(frames.some((w) => /^> host:h1 +1\/1 +1 /m.test(strip(w)) && strip(w).includes("bottleneck (1 waiting"))).toBe(true);
    for (let i = 1; i < term.writes.length; i++) expect(movedUp(term.writes[i]!)).toBe(frameOf(term.writes[i - 1]!).length);
    const failure = term.writes.findIndex((w) => w.includes("failed    broken[h1]"));
    expect(failure).toBeGreaterThan(-1);
    // Above the frame: the failure line comes first in its write, right after the move up and clear.
    expect(strip(term.writes[failure]!)).toMatch(/^\r\x1b\[\d+A\x1b\[Jfailed    broken\[h1\] \d+ms: \/bin\/sh: exit code 3: it broke\n/);
  });

  test("the end leaves the summary and the counts in place of the frame, and stops its timer and resize listener", async () => {
    const { term } = await run((t) => t.tick());
    const last = strip(term.writes.at(-1)!);
    expect(last).toMatch(/^\r\x1b\[\d+A\x1b\[Jtask +ok +failed +skipped +cached +timed_out +time\n/);
    expect(last).toMatch(/\ndeploy +3 +0 +0 +0 +0 +\S+\n/);
    expect(last).toMatch(/\nbroken +0 +1 +0 +0 +0 +\S+\n/);
    expect(last).toContain("\nslowest:\n");
    expect(last).toMatch(/\nwaited most \(.* over \d+ starts?\): host:h1\n/);
    expect(last).toMatch(/\n3 ok, 1 failed of 4 in \S+\n$/);
    expect(term.timer).toBeUndefined();
    expect(term.resize).toBeUndefined();
  });

  test("after a resize the move up counts the old frame's lines as the terminal rewrapped them", async () => {
    let resizedAt = -1;
    const { term } = await run((t) => {
      t.tick();
      if (resizedAt < 0) {
        resizedAt = t.writes.length;
        t.columns = 30;
        t.resize?.();
      }
    });
    const before = frameOf(term.writes[resizedAt - 1]!).map((l) => l.replace(/^\r(\x1b\[\d+A)?\x1b\[J/, ""));
    const rewrapped = before.reduce((rows, line) => rows + Math.max(1, Math.ceil(line.length / 30)), 0);
    expect(rewrapped).toBeGreaterThan(before.length);
    expect(movedUp(term.writes[resizedAt]!)).toBe(rewrapped);
    for (const line of frameOf(term.writes[resizedAt]!).slice(1)) expect(line.length).toBeLessThanOrEqual(29);
  });
});
