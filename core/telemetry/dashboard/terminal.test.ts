/**
 * The dashboard in a real pseudo-terminal: fanout runs inside a detached
 * tmux session (its own server socket) and the screen is read back with
 * `tmux capture-pane`, while the run goes on and after it ends, at 120 and
 * 60 columns and across a resize. Off a terminal, the line output is what
 * it always was.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fanoutArgv, type FanoutRuntime } from "../../runtime/fanout_runtimes.ts";
import { writeFiles } from "../../test_helpers.ts";

const TMUX = "/usr/bin/tmux";
const SOCKET = `fanout-dashboard-test-${process.pid}`;

// The host lock makes deploy's instances queue one behind the other; broken fails early.
const PLAN = `version: 1
name: dash
hosts: [h1]
parallelism: 4
tasks:
  - { name: deploy, module: sleep, hint: host_exclusive, items: [1, 2, 3, 4, 5, 6], with: { duration: 500ms } }
  - { name: broken, module: shell, needs: [], with: { cmd: "echo it broke >&2; exit 3", shell: true } }
`;

function tmux(...args: string[]): string {
  const r = spawnSync(TMUX, ["-L", SOCKET, ...args], { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Starts `fanout run plan.yml <flags>` in a new session; stdout goes to a file, and the shell says EXIT=<code> after it. */
function start(session: string, width: number, flags: string[], runtime: FanoutRuntime = "bun", env = "", plan = PLAN): string {
  const dir = writeFiles({ "plan.yml": plan });
  const argv = [...fanoutArgv(runtime), "run", "plan.yml", "--no-journal", ...flags].map(shellQuote).join(" ");
  const command = `cd ${shellQuote(dir)} && ${env} ${argv} >stdout.txt; echo EXIT=$?; sleep 600`;
  tmux("new-session", "-d", "-s", session, "-x", String(width), "-y", "40", "sh", "-c", command);
  return dir;
}

const screen = (session: string) => tmux("capture-pane", "-p", "-t", session);

/** Reads the screen until `ready` holds (generous: the machine is shared). */
async function waitForScreen(session: string, ready: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  let text = "";
  while (Date.now() < deadline) {
    text = screen(session);
    if (ready(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the screen never showed ${what}:\n${text}`);
}

const lines = (text: string) => text.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
const BAR = /^\[[#-]+\] \d+\/7 /;
const finished = (text: string) => /EXIT=\d+/.test(text);

afterAll(() => {
  spawnSync(TMUX, ["-L", SOCKET, "kill-server"]);
});

describe("dashboard in tmux", () => {
  test("tmux is installed (CI installs it: .ci/run)", () => {
    expect(existsSync(TMUX)).toBe(true);
  });

  for (const width of [120, 60]) {
    test(`${width} columns: while running, the bar, the host lock marked as the bottleneck, what runs; at the end the summary, the failure above it, nothing left of the frame`, async () => {
      const session = `w${width}`;
      const dir = start(session, width, ["--json"]);
      const running = await waitForScreen(session, (t) => /^> host:h1 +1\/1 +[1-5] /m.test(t) && /^  deploy\[h1\]\[\d\] +\S+$/m.test(t), "the host lock as bottleneck with deploy running");
      const live = lines(running);
      expect(live.filter((l) => BAR.test(l))).toHaveLength(1);
      expect(live.some((l) => /^bottleneck \([1-5] waiting, p95 \S+\): host:h1$/.test(l))).toBe(true);
      // deploy, and broken while it has not failed yet.
      expect(live.some((l) => /^running \([12]\)$/.test(l))).toBe(true);
      for (const line of live) expect(line.length).toBeLessThan(width);

      const end = lines(await waitForScreen(session, finished, "the end of the run"));
      expect(end.at(-1)).toBe("EXIT=1");
      expect(end[0]).toBe("fanout: plan dash: 7 instances, forks 4 (manual)");
      const failure = end.findIndex((l) => l.startsWith("failed    broken[h1]"));
      const table = end.findIndex((l) => /^task +ok +failed +skipped +cached +timed_out +time$/.test(l));
      expect(failure).toBeGreaterThan(0);
      expect(table).toBeGreaterThan(failure);
      expect(end[table + 1]).toMatch(/^deploy +6 +0 +0 +0 +0 +\d/);
      expect(end[table + 2]).toMatch(/^broken +0 +1 +0 +0 +0 +\d/);
      expect(end).toContain("slowest:");
      expect(end.some((l) => /^waited most \(\S+ over \d+ starts\): host:h1$/.test(l))).toBe(true);
      expect(end.at(-2)).toMatch(/^6 ok, 1 failed of 7 in \S+$/);
      // Nothing of the frame is left behind.
      expect(end.some((l) => BAR.test(l) || l.startsWith("bottleneck") || l.startsWith("running (") || l.includes("use/cap"))).toBe(false);

      // stdout carried the NDJSON and nothing else.
      const out = readFileSync(join(dir, "stdout.txt"), "utf8");
      expect(out).not.toContain("\x1b");
      const events = out.trimEnd().split("\n").map((l) => JSON.parse(l));
      expect(events[0].type).toBe("run_start");
      expect(events.at(-1).type).toBe("run_end");
    }, 120_000);
  }

  test("a resize from 120 to 60 columns during the run: the frame redraws at the new width and the end is clean", async () => {
    const session = "resize";
    start(session, 120, []);
    await waitForScreen(session, (t) => lines(t).some((l) => BAR.test(l) && l.length > 60), "a frame wider than 60 columns");
    tmux("resize-window", "-t", session, "-x", "60", "-y", "40");
    const narrow = lines(await waitForScreen(session, (t) => lines(t).some((l) => BAR.test(l) && l.length < 60) || finished(t), "a frame redrawn for 60 columns"));
    expect(narrow.filter((l) => BAR.test(l)).length).toBeLessThanOrEqual(1);
    const end = lines(await waitForScreen(session, finished, "the end of the run"));
    expect(end.some((l) => BAR.test(l) || l.startsWith("bottleneck") || l.includes("use/cap"))).toBe(false);
    expect(end.some((l) => /^task +ok +failed +skipped +cached +timed_out +time$/.test(l))).toBe(true);
    expect(end.at(-2)).toMatch(/^6 ok, 1 failed of 7 in \S+$/);
  }, 120_000);

  test("the compiled binary draws it too", async () => {
    const session = "binary";
    start(session, 60, [], "binary");
    const running = await waitForScreen(session, (t) => /^> host:h1 /m.test(t), "the host lock as bottleneck");
    expect(lines(running).filter((l) => BAR.test(l))).toHaveLength(1);
    const end = lines(await waitForScreen(session, finished, "the end of the run"));
    expect(end.some((l) => /^waited most \(.*\): host:h1$/.test(l))).toBe(true);
    expect(end.at(-1)).toBe("EXIT=1");
  }, 300_000);

  for (const [name, env, flags] of [["NO_COLOR", "NO_COLOR=1", []], ["TERM=dumb", "TERM=dumb", []], ["--progress never", "", ["--progress", "never"]]] as const) {
    test(`${name}: the line output, one line per instance, no frame`, async () => {
      const session = `lines${name.replace(/\W/g, "")}`;
      start(session, 120, [...flags], "bun", env, PLAN.replace("500ms", "20ms"));
      const end = lines(await waitForScreen(session, finished, "the end of the run"));
      expect(end[0]).toBe("fanout: plan dash: 7 instances, forks 4 (manual)");
      expect(end.filter((l) => /^ok +deploy\[h1\]\[\d\] /.test(l))).toHaveLength(6);
      expect(end.some((l) => BAR.test(l) || l.startsWith("task ") || l.startsWith("bottleneck"))).toBe(false);
    }, 120_000);
  }
});

describe("dashboard off a terminal", () => {
  const run = (flags: string[]) => {
    // broken after deploy: the lines come in one order only.
    const dir = writeFiles({ "plan.yml": PLAN.replace("500ms", "10ms").replace("needs: [], ", "") });
    const r = spawnSync(fanoutArgv("bun")[0]!, [...fanoutArgv("bun").slice(1), "run", "plan.yml", "--no-journal", ...flags], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    return r;
  };
  /** Durations differ from run to run; everything else must not. */
  const timeless = (text: string) => text.replace(/\d+(\.\d+)?(ms|s)\b/g, "T");

  test("stderr not a terminal: the same bytes as --progress never, apart from durations; stdout empty", () => {
    const auto = run([]);
    const never = run(["--progress", "never"]);
    expect(auto.status).toBe(1);
    expect(auto.stdout).toBe("");
    expect(auto.stderr).not.toContain("\x1b");
    expect(auto.stderr).toStartWith("fanout: plan dash: 7 instances, forks 4 (manual)\nok        deploy[h1][1] ");
    expect(timeless(auto.stderr)).toBe(timeless(never.stderr));
  });

  test("--progress always off a terminal draws the dashboard at 80 columns, and stdout keeps only NDJSON", () => {
    const r = run(["--progress", "always", "--json"]);
    expect(r.stderr).toMatch(/(\n|\x1b\[J)task +ok +failed +skipped +cached +timed_out +time\n/);
    expect(r.stderr).toMatch(/\n6 ok, 1 failed of 7 in \S+\n$/);
    for (const line of r.stdout.trimEnd().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
  });

  test("--progress with an unknown mode is a usage error (exit 2)", () => {
    const r = run(["--progress", "sometimes"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--progress: expected one of auto, always, never, got "sometimes"');
  });
});
