/**
 * Whole-process speed, measured from outside, start to exit, as a user's
 * `time fanout run plan.yml` sees it: the compiled binary against a compiled
 * Bun hello-world (start-up), a minimal compiled Bun process pool
 * (bench/pool/min_pool.ts: a fork limit and the same Bun.spawn, nothing
 * else — the floor fanout's own primitives allow), GNU make and xargs.
 *
 * The pool and the hello-world are compiled into a temporary directory by
 * scripts/build.ts, with fanout's own flags; dist/fanout is built first when it is absent
 * or older than the sources. Every command of every row runs round-robin in
 * one run (bench/whole/schedule.ts), so machine noise falls on all alike;
 * the figures are medians. fanout runs with `-q` (no progress on stderr, as
 * `make -s`); output goes to /dev/null.
 *
 * The one-task row also runs with FANOUT_TRACE=1, and reports each phase of
 * start-up and exit on the benchmark's clock (bench/whole/trace.ts).
 *
 * Default: 3 rounds of 10 turns for the rows that take milliseconds, 5
 * rounds of one run for those that take seconds; `--quick`: 1 round (5
 * turns), same sizes. FANOUT_BENCH_SCALE scales the sizes.
 * A tool that is missing, or a command that fails, gives null figures with
 * the reason under `unavailable`; the benchmark still reports the rest.
 * Goals are those of issue 8; `goal_met` is null when a figure is missing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { have, report, scaled, scratchDir, writeFile } from "./lib.ts";
import { compileLikeFanout, ensureFanout } from "./whole/binaries.ts";
import { atMost, type Figure, mb, median, per, ratio } from "./whole/figures.ts";
import { commandLines, compileMakefile, cSource, itemLines, phonyMakefile, shellPlan } from "./whole/inputs.ts";
import { type Command, runOnce } from "./whole/measure.ts";
import { schedule } from "./whole/schedule.ts";
import { parseTrace, phaseMedians, type TracePoint } from "./whole/trace.ts";

const QUICK = process.argv.includes("--quick");
/** Rounds of the rows that take milliseconds (each round is CHEAP_TURNS runs of each command). */
const ROUNDS = QUICK ? 1 : 3;
/**
 * Rounds of the rows that take seconds (one run of each command a round).
 * Their medians moved by up to 8% between two whole runs with 3; 5 steadies
 * them for a minute more. Fork/exec of thousands of processes sets the
 * run's length.
 */
const SLOW_ROUNDS = QUICK ? 1 : 5;
/** Turns per round for the rows that take milliseconds. */
const CHEAP_TURNS = QUICK ? 5 : 10;
/** Peak RSS moves by a few percent from run to run, and a 20,000-task run is the longest of all: one each. */
const RSS_ROUNDS = 1;
const TIME_V = "/usr/bin/time";

interface Contender extends Command {
  tool: string;
}

interface Row {
  name: string;
  contenders: Contender[];
  rounds: number;
  perRound: number;
  /** Peak RSS through /usr/bin/time -v when present. */
  rss?: boolean;
  /** Tools this row could not run, and why. */
  unavailable: Record<string, string>;
}

function log(message: string): void {
  process.stderr.write(`whole_process: ${message}\n`);
}

/** The first line of `<program> --version`, or null. */
function versionOf(program: string): string | null {
  const res = spawnSync(program, ["--version"], { encoding: "utf8" });
  return res.status === 0 ? (res.stdout.split("\n")[0] ?? "").trim() : null;
}

function main(): void {
  const started = Date.now();
  const cores = os.availableParallelism();
  const loadBefore = os.loadavg();
  const fanout = ensureFanout(log);
  const dir = scratchDir("whole");
  log("compiling the pool and the hello-world with the build flags");
  const pool = compileLikeFanout("min_pool", dir);
  const hello = compileLikeFanout("hello", dir);

  const missing = (program: string) => (have(program) ? undefined : `${program} not found on PATH`);
  const tools = { make: missing("make"), xargs: missing("xargs"), gcc: missing("gcc") };
  const timeV = existsSync(TIME_V) ? TIME_V : undefined;

  const n = {
    dispatch: scaled(2000, 50),
    sleep: scaled(200, 20),
    rss: scaled(20_000, 200),
    compile: scaled(40, 4),
  };
  const DISPATCH_JOBS = 8;
  const SLEEP_JOBS = 20;
  const idealSleepMs = Math.ceil(n.sleep / SLEEP_JOBS) * 50;

  // Inputs, written once.
  writeFile(dir, "one.yml", shellPlan({ name: "one", argv: ["true"] }));
  writeFile(dir, "one.list", commandLines(["true"], 1));
  writeFile(dir, "one.mk", phonyMakefile("true", 1));
  writeFile(dir, "dispatch.items", itemLines(n.dispatch));
  writeFile(dir, "dispatch.yml", shellPlan({ name: "dispatch", argv: ["true"], itemsFile: "dispatch.items", parallelism: DISPATCH_JOBS }));
  writeFile(dir, "dispatch.list", commandLines(["true"], n.dispatch));
  writeFile(dir, "dispatch.mk", phonyMakefile("true", n.dispatch));
  writeFile(dir, "sleep.items", itemLines(n.sleep));
  writeFile(dir, "sleep.yml", shellPlan({ name: "sleep", argv: ["sleep", "0.05"], itemsFile: "sleep.items", parallelism: SLEEP_JOBS }));
  writeFile(dir, "sleep.list", commandLines(["sleep", "0.05"], n.sleep));
  writeFile(dir, "sleep.mk", phonyMakefile("sleep 0.05", n.sleep));
  writeFile(dir, "rss.items", itemLines(n.rss));
  writeFile(dir, "rss.yml", shellPlan({ name: "rss", argv: ["true"], itemsFile: "rss.items", parallelism: DISPATCH_JOBS }));
  writeFile(dir, "rss.list", commandLines(["true"], n.rss));
  const sources = Array.from({ length: n.compile }, (_, i) => `c${i}`);
  mkdirSync(join(dir, "src"));
  sources.forEach((name, i) => writeFile(join(dir, "src"), `${name}.c`, cSource(i)));
  // Default settings: no parallelism, no cpu_tokens; only the task's need.
  writeFile(dir, "compile.yml", shellPlan({ name: "compile", argv: ["gcc", "-O2", "-c", "src/{{ item }}.c", "-o", "obj_fanout/{{ item }}.o"], items: sources, cpu: 1 }));
  writeFile(dir, "compile.mk", compileMakefile(sources, "obj_make"));
  const emptyDir = (name: string) => () => {
    rmSync(join(dir, name), { recursive: true, force: true });
    mkdirSync(join(dir, name));
  };

  const f = (...args: string[]) => [...fanout.argv, ...args];
  const c = (tool: string, argv: string[], prepare?: () => void): Contender => ({ tool, argv, cwd: dir, prepare });
  const rows: Row[] = [
    { name: "harness", rounds: ROUNDS, perRound: CHEAP_TURNS, unavailable: {}, contenders: [c("true", ["/bin/true"])] },
    {
      name: "version", rounds: ROUNDS, perRound: CHEAP_TURNS, unavailable: {},
      contenders: [c("fanout", f("--version")), c("hello", [hello]), c("make", ["make", "--version"])],
    },
    {
      name: "one_task", rounds: ROUNDS, perRound: CHEAP_TURNS, unavailable: {},
      contenders: [c("fanout", f("run", "one.yml", "-q")), c("pool", [pool, "1", "one.list"]), c("make", ["make", "-s", "-f", "one.mk"])],
    },
    {
      // The same run with FANOUT_TRACE=1: where its milliseconds go (not part of any ratio).
      name: "one_task_traced", rounds: ROUNDS, perRound: CHEAP_TURNS, unavailable: {},
      contenders: [{ ...c("fanout", f("run", "one.yml", "-q")), env: { FANOUT_TRACE: "1" } }],
    },
    {
      name: "json", rounds: ROUNDS, perRound: CHEAP_TURNS, unavailable: {},
      contenders: [c("fanout_json", f("run", "one.yml", "-q", "--json")), c("fanout", f("run", "one.yml", "-q"))],
    },
    {
      name: "dispatch", rounds: SLOW_ROUNDS, perRound: 1, unavailable: {},
      contenders: [
        c("fanout", f("run", "dispatch.yml", "-q")),
        c("pool", [pool, String(DISPATCH_JOBS), "dispatch.list"]),
        c("make", ["make", "-s", `-j${DISPATCH_JOBS}`, "-f", "dispatch.mk"]),
        c("xargs", ["xargs", "-a", "dispatch.items", `-P${DISPATCH_JOBS}`, "-n1", "true"]),
      ],
    },
    {
      name: "sleep", rounds: SLOW_ROUNDS, perRound: 1, unavailable: {},
      contenders: [
        c("fanout", f("run", "sleep.yml", "-q")),
        c("pool", [pool, String(SLEEP_JOBS), "sleep.list"]),
        c("make", ["make", "-s", `-j${SLEEP_JOBS}`, "-f", "sleep.mk"]),
      ],
    },
    {
      name: "compile", rounds: SLOW_ROUNDS, perRound: 1, unavailable: {},
      contenders: [
        c("fanout", f("run", "compile.yml", "-q"), emptyDir("obj_fanout")),
        c("make", ["make", "-s", `-j${cores}`, "-f", "compile.mk"], emptyDir("obj_make")),
      ],
    },
    {
      name: "rss", rounds: RSS_ROUNDS, perRound: 1, rss: true, unavailable: {},
      contenders: [c("fanout", f("run", "rss.yml", "-q")), c("pool", [pool, String(DISPATCH_JOBS), "rss.list"])],
    },
  ];
  // A missing tool leaves its contenders out, said so in the row.
  for (const row of rows) {
    row.contenders = row.contenders.filter((ct) => {
      const needs = row.name === "compile" ? ["gcc", ct.tool] : [ct.tool];
      const reason = needs.map((t) => tools[t as keyof typeof tools]).find((why) => why !== undefined);
      if (reason) row.unavailable[ct.tool] = reason;
      return reason === undefined;
    });
  }
  const runnable = rows.filter((row) => row.contenders.length > 0);

  // Warm-up, not counted: the binaries into the page cache.
  for (const row of runnable.filter((rw) => rw.perRound > 1)) {
    for (const ct of row.contenders) {
      try {
        runOnce(ct);
      } catch {
        // the counted runs report it
      }
    }
  }

  const samples = new Map<string, { wall: number[]; cpu: number[]; rss: number[]; traces: TracePoint[][] }>();
  const key = (row: string, tool: string) => `${row}/${tool}`;
  const slots = schedule(runnable.map((row) => ({ name: row.name, contenders: row.contenders.length, rounds: row.rounds, perRound: row.perRound })));
  log(`${slots.length} runs, ${ROUNDS} rounds (${SLOW_ROUNDS} for the rows that take seconds)${QUICK ? " (--quick)" : ""}`);
  const byName = new Map(runnable.map((row) => [row.name, row]));
  let round = -1;
  for (const slot of slots) {
    if (slot.round !== round) log(`round ${(round = slot.round) + 1}`);
    const row = byName.get(slot.row)!;
    const ct = row.contenders[slot.contender]!;
    if (row.unavailable[ct.tool]) continue;
    try {
      const o = runOnce(ct, row.rss ? timeV : undefined);
      const s = samples.get(key(row.name, ct.tool)) ?? { wall: [], cpu: [], rss: [], traces: [] };
      s.wall.push(o.wallMs);
      s.cpu.push(o.cpuMs);
      s.rss.push(o.rssBytes);
      if (ct.env?.FANOUT_TRACE) s.traces.push(parseTrace(o.stderr, o.spawnedEpochMs));
      samples.set(key(row.name, ct.tool), s);
    } catch (e) {
      row.unavailable[ct.tool] = (e as Error).message;
    }
  }

  /** Median wall ms (or cpu ms, or rss bytes) of a row's tool; null when it did not run to the end. */
  const fig = (row: string, tool: string, what: "wall" | "cpu" | "rss" = "wall"): Figure => {
    if (byName.get(row)?.unavailable[tool] !== undefined) return null;
    return median(samples.get(key(row, tool))?.[what] ?? []);
  };
  const unavailable = (row: string) => rows.find((rw) => rw.name === row)!.unavailable;
  const ms = (x: Figure) => per(x, 1, 2);

  const traced = () => {
    const s = samples.get(key("one_task_traced", "fanout"));
    return s && s.traces.length > 0 ? phaseMedians(s.traces, s.wall) : null;
  };
  const version = { fanout: ms(fig("version", "fanout")), hello: ms(fig("version", "hello")), make: ms(fig("version", "make")) };
  const one = { fanout: ms(fig("one_task", "fanout")), pool: ms(fig("one_task", "pool")), make: ms(fig("one_task", "make")) };
  const json = { with_json: ms(fig("json", "fanout_json")), without: ms(fig("json", "fanout")) };
  const jsonCpu = { with_json: ms(fig("json", "fanout_json", "cpu")), without: ms(fig("json", "fanout", "cpu")) };
  const extra = (a: Figure, b: Figure) => (a === null || b === null ? null : Math.round((a - b) * 100) / 100);
  const jsonExtra = extra(json.with_json, json.without);
  const jsonExtraCpu = extra(jsonCpu.with_json, jsonCpu.without);
  const idleExtra = jsonExtra === null || jsonExtraCpu === null ? null : Math.round((jsonExtra - jsonExtraCpu) * 100) / 100;
  const perTask = (tool: string) => per(fig("dispatch", tool), n.dispatch, 3);
  const dispatch = { fanout: perTask("fanout"), pool: perTask("pool"), make: perTask("make"), xargs: perTask("xargs") };
  const dispatchCpu = { fanout: per(fig("dispatch", "fanout", "cpu"), n.dispatch), pool: per(fig("dispatch", "pool", "cpu"), n.dispatch) };
  const sleepS = (tool: string) => per(fig("sleep", tool), 1000, 3);
  const sleep = { fanout: sleepS("fanout"), pool: sleepS("pool"), make: sleepS("make") };
  const ideal = idealSleepMs / 1000;
  const toIdeal = { fanout: ratio(sleep.fanout, ideal), pool: ratio(sleep.pool, ideal), make: ratio(sleep.make, ideal) };
  const rss = { fanout: mb(fig("rss", "fanout", "rss")), pool: mb(fig("rss", "pool", "rss")) };
  const rssWall = { fanout: per(fig("rss", "fanout"), 1000, 2), pool: per(fig("rss", "pool"), 1000, 2) };
  const compile = { fanout: per(fig("compile", "fanout"), 1000, 3), make: per(fig("compile", "make"), 1000, 3) };

  report("whole_process", {
    date: new Date(started).toISOString(),
    machine: { cores, cpu: os.cpus()[0]?.model ?? null, kernel: os.release(), bun: Bun.version, load_before: loadBefore.map((l) => Math.round(l * 100) / 100), load_after: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    binary: { path: fanout.argv.join(" "), built_now: fanout.built },
    quick: QUICK,
    rounds: ROUNDS,
    rounds_slow_rows: SLOW_ROUNDS,
    turns_per_round_cheap_rows: CHEAP_TURNS,
    rss_rounds: RSS_ROUNDS,
    tools: {
      make: versionOf("make") ?? tools.make ?? null,
      xargs: versionOf("xargs") ?? tools.xargs ?? null,
      gcc: versionOf("gcc") ?? tools.gcc ?? null,
      rss_method: timeV ? `${TIME_V} -v` : `rusage of the child (Bun.spawnSync resourceUsage): ${TIME_V} not found`,
    },
    rows: {
      harness_floor: { what: "spawning /bin/true from this benchmark: in every figure below", ms: ms(fig("harness", "true")) },
      version: {
        what: "--version, ms",
        ms: version,
        ratio_to_hello: ratio(version.fanout, version.hello),
        goal: "<= 2x a compiled Bun hello-world",
        goal_met: atMost([ratio(version.fanout, version.hello), 2]),
        unavailable: unavailable("version"),
      },
      one_task: {
        what: "a one-task plan (true), ms",
        trace: { what: "the same run with FANOUT_TRACE=1: each phase's median end (at_ms) and length (step_ms), ms after the spawn", phases: traced() },
        ms: one,
        ratio_to_pool: ratio(one.fanout, one.pool),
        ratio_to_make: ratio(one.fanout, one.make),
        goal: "<= 1.5x the pool",
        goal_met: atMost([ratio(one.fanout, one.pool), 1.5]),
        unavailable: unavailable("one_task"),
      },
      dispatch: {
        what: `${n.dispatch} x true, ${DISPATCH_JOBS} at once, ms per task`,
        ms_per_task: dispatch,
        cpu_ms_per_task: dispatchCpu,
        ratio_to_pool: ratio(dispatch.fanout, dispatch.pool),
        ratio_to_make: ratio(dispatch.fanout, dispatch.make),
        ratio_to_xargs: ratio(dispatch.fanout, dispatch.xargs),
        goal: "<= 1.1x the pool, and <= make",
        goal_met: atMost([ratio(dispatch.fanout, dispatch.pool), 1.1], [dispatch.fanout, dispatch.make]),
        unavailable: unavailable("dispatch"),
      },
      sleep: {
        what: `${n.sleep} x sleep 0.05, ${SLEEP_JOBS} at once, s`,
        s: sleep,
        ideal_s: ideal,
        ratio_to_ideal: toIdeal,
        ratio_to_pool: ratio(sleep.fanout, sleep.pool),
        goal: "<= 1.03x the pool",
        goal_met: atMost([ratio(sleep.fanout, sleep.pool), 1.03]),
        unavailable: unavailable("sleep"),
      },
      rss: {
        what: `peak RSS, a ${n.rss}-item plan of true (${DISPATCH_JOBS} at once), MB`,
        mb: rss,
        wall_s: rssWall,
        ratio_to_pool: ratio(rss.fanout, rss.pool),
        goal: "<= 80 MB",
        goal_met: atMost([rss.fanout, 80]),
        unavailable: unavailable("rss"),
      },
      json: {
        what: "--json on a one-task plan, ms",
        ms: json,
        extra_ms: extra(json.with_json, json.without),
        cpu_ms: jsonCpu,
        extra_cpu_ms: extra(jsonCpu.with_json, jsonCpu.without),
        // The goal is about waiting, not work: serialising and writing the events costs CPU, which extra_cpu_ms shows.
        idle_extra_ms: idleExtra,
        goal: "no idle wait at exit: what --json adds to the wall time beyond the CPU time it adds (idle_extra_ms) <= 1 ms",
        goal_met: atMost([idleExtra, 1]),
        unavailable: unavailable("json"),
      },
      compile: {
        what: `${n.compile} x gcc -O2 -c, s: fanout with resources { cpu: 1 } at default settings; make -j${cores}`,
        s: compile,
        ratio_to_make: ratio(compile.fanout, compile.make),
        goal: `<= 1.05x make -j${cores}`,
        goal_met: atMost([ratio(compile.fanout, compile.make), 1.05]),
        unavailable: unavailable("compile"),
      },
    },
    duration_s: Math.round((Date.now() - started) / 1000),
  });
}

main();
