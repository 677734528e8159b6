/**
 * The make jobserver with the real GNU make of this machine (4.3: the pipe
 * form only). Jobs record their own start and end (date +%s%N, written by
 * the job into a file); the most that ran at once is measured from those
 * records, never from fanout's own events.
 */
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fanoutArgv, type FanoutRuntime } from "./runtime/fanout_runtimes.ts";
import type { FanoutEvent, RunStartEvent } from "./telemetry/events.ts";
import { maxOverlap, runProcess, tempDir } from "./test_helpers.ts";

/** `line` as the job's shell writes its own start and end into rec/NAME.{start,end}. */
const recorded = (name: string, work: string) => `echo $$(date +%s%N) > rec/${name}.start; ${work}; echo $$(date +%s%N) > rec/${name}.end`;

/** A directory with a Makefile of `jobs` jobs that each sleep `seconds`, and an empty rec/. */
function makeDir(root: string, name: string, jobs: number, seconds = 0.3): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "rec"), { recursive: true });
  const targets = Array.from({ length: jobs }, (_, i) => `j${i}`);
  writeFileSync(join(dir, "Makefile"), `all: ${targets.join(" ")}\n` + targets.map((t) => `${t}:\n\t@${recorded(t, `sleep ${seconds}`)}\n`).join(""));
  return dir;
}

/** Every job's [start, end] in `dirs`, from the files the jobs wrote. */
function records(...dirs: string[]): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const dir of dirs) {
    const rec = join(dir, "rec");
    for (const f of readdirSync(rec).filter((f) => f.endsWith(".start"))) {
      const read = (ext: string) => Number(BigInt(readFileSync(join(rec, f.replace(/\.start$/, ext)), "utf8").trim()) / 1000n) / 1000;
      out.push({ start: read(".start"), end: read(".end") });
    }
  }
  return out;
}

async function run(dir: string, plan: string, runtime: FanoutRuntime = "bun") {
  writeFileSync(join(dir, "plan.yml"), plan);
  const env = { ...process.env };
  delete env.MAKEFLAGS;
  delete env.MFLAGS;
  const r = await runProcess([...fanoutArgv(runtime), "run", join(dir, "plan.yml"), "--json"], { cwd: dir, env, timeoutMs: 240_000 });
  const events = r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as FanoutEvent);
  return { ...r, events, start: events.find((e) => e.type === "run_start") as RunStartEvent };
}

const statuses = (events: FanoutEvent[]) => Object.fromEntries(events.flatMap((e) => (e.type === "task_end" ? [[e.task, e.status]] : [])));

describe("fanout serves the jobserver to make", () => {
  test("make under fanout's jobserver runs at most the fork limit of jobs at once; with jobserver: false, make -j runs many more", async () => {
    const root = tempDir("fanout-js-");
    const limited = makeDir(root, "limited", 40);
    const control = makeDir(root, "control", 40);
    const r = await run(root, `version: 1
parallelism: 3
tasks:
  - { name: limited, module: shell, with: { cmd: "make -s -C limited", shell: true } }
  - { name: control, module: shell, jobserver: false, with: { cmd: "make -s -j -C control", shell: true } }
`);
    expect(r.code).toBe(0);
    expect(r.start.jobserver).toEqual({ served: true, used: false, slots: 3 });
    const jobs = records(limited);
    expect(jobs.length).toBe(40);
    expect(maxOverlap(jobs)).toBeLessThanOrEqual(3);
    // make did take tokens: it ran jobs side by side, not one by one.
    expect(maxOverlap(jobs)).toBeGreaterThanOrEqual(2);
    expect(maxOverlap(records(control))).toBeGreaterThan(3);
  }, 240_000);

  test("two makes in parallel tasks share one budget (under Deno: node:child_process passes the descriptors)", async () => {
    const root = tempDir("fanout-js-");
    const a = makeDir(root, "a", 20);
    const b = makeDir(root, "b", 20);
    const r = await run(root, `version: 1
parallelism: 3
tasks:
  - name: both
    parallel:
      - { name: a, module: shell, with: { cmd: "make -s -C a", shell: true } }
      - { name: b, module: shell, with: { cmd: "make -s -C b", shell: true } }
`, "deno");
    expect(r.code).toBe(0);
    const jobs = records(a, b);
    expect(jobs.length).toBe(40);
    expect(maxOverlap(jobs)).toBeLessThanOrEqual(3);
    expect(maxOverlap(jobs)).toBeGreaterThanOrEqual(2);
  }, 240_000);

  test("a make killed holding tokens leaks no slot: the next task's make gets the whole budget again", async () => {
    const root = tempDir("fanout-js-");
    makeDir(root, "killed", 40);
    const after = makeDir(root, "after", 12);
    // make runs 3 jobs (its own slot and 2 tokens), then is killed with SIGKILL: it never gives its 2 tokens back.
    const kill = `make -s -C killed & m=$!; while [ $(ls killed/rec | grep -c start) -lt 3 ]; do sleep 0.05; done; kill -KILL $m; wait; true`;
    const r = await run(root, `version: 1
parallelism: 3
tasks:
  - { name: killed, module: shell, with: { cmd: ${JSON.stringify(kill)}, shell: true } }
  - { name: after, module: shell, with: { cmd: "make -s -C after", shell: true } }
`);
    expect(statuses(r.events)).toEqual({ killed: "ok", after: "ok" });
    // Had the 2 tokens leaked, this make would have had its implicit slot alone: 1 at a time.
    expect(maxOverlap(records(after))).toBe(3);
    const warn = r.events.find((e) => e.type === "log" && e.message.startsWith("jobserver:"));
    expect(warn && "message" in warn ? warn.message : "").toContain("2 token(s)");
  }, 240_000);

  test("jobserver: fifo gives the fifo form (make >= 4.4, ninja >= 1.13), drawing from the same tokens", async () => {
    const root = tempDir("fanout-js-");
    // A client of the fifo form: takes the 2 free tokens (the task holds the third slot), gives them back.
    const client = `echo "$MAKEFLAGS"; p=\${MAKEFLAGS##*fifo:}; exec 5<>"$p"; head -c2 <&5; echo; printf ++ >&5`;
    const r = await run(root, `version: 1
parallelism: 3
tasks:
  - { name: fifo, module: shell, jobserver: fifo, with: { cmd: ${JSON.stringify(client)}, shell: true } }
`);
    expect(r.code).toBe(0);
    const end = r.events.find((e) => e.type === "task_end");
    const [flags, tokens] = String(end?.type === "task_end" ? end.data.stdout : "").split("\n");
    expect(flags).toMatch(/^-j3 --jobserver-auth=fifo:\/.*fanout-jobserver-.*\/fifo$/);
    expect(tokens).toBe("++");
  }, 240_000);
});

describe("the served fifo on disk", () => {
  /**
   * Starts fanout on a one-task plan whose command says it started, then
   * sleeps; with TMPDIR and XDG_RUNTIME_DIR folders of the test's own, so
   * that every fifo fanout makes is found in one of them. Returns their
   * jobserver entries while the command runs and again after fanout was
   * SIGKILLed, and where fanout's open descriptors of a jobserver fifo
   * point (from /proc: the fifo's path, "(deleted)" once unlinked).
   */
  async function killedMidRun(jobserver: string) {
    const root = tempDir("fanout-js-kill-");
    const tmp = join(root, "tmp");
    const xdg = join(root, "xdg");
    mkdirSync(tmp);
    mkdirSync(xdg, { mode: 0o700 });
    writeFileSync(join(root, "plan.yml"), `version: 1
tasks:
  - { name: a, module: shell, jobserver: ${jobserver}, with: { cmd: "touch started; exec sleep 30", shell: true } }
`);
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, XDG_RUNTIME_DIR: xdg };
    delete env.MAKEFLAGS;
    const child = spawn(fanoutArgv("bun")[0]!, [...fanoutArgv("bun").slice(1), "run", join(root, "plan.yml"), "-q", "--no-journal"], { cwd: root, env, stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const entries = () => [tmp, xdg].flatMap((dir) => readdirSync(dir).filter((name) => name.startsWith("fanout-jobserver-")).map((name) => join(dir, name)));
    for (let waited = 0; !existsSync(join(root, "started")); waited += 50) {
      if (waited > 60_000) throw new Error("the command never started");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const running = entries().map((dir) => ({ dir, fifo: existsSync(join(dir, "fifo")) && statSync(join(dir, "fifo")).isFIFO() }));
    const fds = readdirSync(`/proc/${child.pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${child.pid}/fd/${fd}`);
      } catch {
        return "";
      }
    }).filter((target) => target.includes("fanout-jobserver-"));
    child.kill("SIGKILL");
    await exited;
    const after = entries();
    rmSync(root, { recursive: true, force: true });
    return { running, after, fds, tmp, xdg };
  }

  test("the pipe form's fifo is unlinked once open: a fanout killed with SIGKILL leaves nothing behind", async () => {
    const { running, after } = await killedMidRun("pipe");
    expect(running).toEqual([]);
    expect(after).toEqual([]);
  }, 120_000);

  test("the pipe form's fifo is made in XDG_RUNTIME_DIR (RAM-backed), not in TMPDIR", async () => {
    const { fds, tmp, xdg } = await killedMidRun("pipe");
    // fanout's reader and writer, at least; the children's two are open in it too.
    expect(fds.length).toBeGreaterThanOrEqual(2);
    for (const target of fds) {
      expect(target.startsWith(`${xdg}/fanout-jobserver-`)).toBe(true);
      expect(target.endsWith("/fifo (deleted)")).toBe(true);
      expect(target.startsWith(tmp)).toBe(false);
    }
  }, 120_000);

  test("the fifo form keeps its path in TMPDIR for the run (the control: the checks above see a fifo that is there)", async () => {
    const { running, after, tmp } = await killedMidRun("fifo");
    expect(running.map((r) => ({ inTmp: r.dir.startsWith(`${tmp}/fanout-jobserver-`), fifo: r.fifo }))).toEqual([{ inTmp: true, fifo: true }]);
    // Known and documented: only a fanout that ends removes it.
    expect(after).toEqual([running[0]!.dir]);
  }, 120_000);
});

describe("fanout under make's jobserver", () => {
  /** A Makefile whose one recipe runs fanout on a plan of 6 tasks that may all run at once; `+` passes make's jobserver. */
  function setUp(plus: boolean) {
    const root = tempDir("fanout-js-");
    mkdirSync(join(root, "rec"));
    writeFileSync(join(root, "plan.yml"), `version: 1
parallelism: 6
tasks:
  - { name: nap, module: shell, items: [1, 2, 3, 4, 5, 6], jobserver: false, with: { cmd: "${recorded("{{ item }}", "sleep 0.5").replaceAll("$$", "$")}", shell: true } }
`);
    writeFileSync(join(root, "Makefile"), `all:\n\t${plus ? "+" : ""}$(FANOUT) run plan.yml --json > events.ndjson\n`);
    return root;
  }

  async function underMake(root: string) {
    const env = { ...process.env };
    delete env.MAKEFLAGS;
    const fanout = fanoutArgv("bun").map((a) => a.replaceAll(" ", "\\ ")).join(" ");
    const r = await runProcess(["make", "-s", "-j2", `FANOUT=${fanout}`], { cwd: root, env, timeoutMs: 240_000 });
    const events = readFileSync(join(root, "events.ndjson"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as FanoutEvent);
    return { ...r, start: events.find((e) => e.type === "run_start") as RunStartEvent, jobs: records(root) };
  }

  test("started by make -j2 with its jobserver, fanout never runs more than 2 tasks at once", async () => {
    const r = await underMake(setUp(true));
    expect(r.code).toBe(0);
    expect(r.start.jobserver).toEqual({ served: false, used: true, slots: 2 });
    expect(r.jobs.length).toBe(6);
    expect(maxOverlap(r.jobs)).toBeLessThanOrEqual(2);
  }, 240_000);

  test("a recipe line without + does not pass make's jobserver: fanout warns and runs as it would alone (the control)", async () => {
    const r = await underMake(setUp(false));
    expect(r.code).toBe(0);
    expect(r.start.jobserver).toEqual({ served: false, used: false, slots: null });
    expect(r.start.warnings.join("\n")).toContain("MAKEFLAGS names the jobserver --jobserver-auth=");
    expect(maxOverlap(r.jobs)).toBeGreaterThan(2);
  }, 240_000);
});
