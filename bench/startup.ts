/**
 * Start-up and exit of the compiled binary, from the shell: the rows of the
 * whole-process benchmark that take milliseconds, with many more samples,
 * and where the time goes.
 *
 * - `--version` against a compiled Bun hello-world;
 * - a one-task plan (`true`, `-q`) against the minimal pool
 *   (bench/pool/min_pool.ts);
 * - the same plan with `--json` against without;
 * - a one-task plan whose module is a plugin (importing "fanout" and the
 *   yaml package): the binary bundles a plugin before importing it, and
 *   keeps the bundle in `.fanout/cache/` for the next run (with
 *   `--baseline` a binary from before that cache shows the difference).
 *
 * Every command runs in turn, round after round, the first one moving on by
 * one each round (bench/whole/schedule.ts), so noise falls on all alike;
 * figures are medians of wall time and of CPU time. Then each fanout command
 * runs again with FANOUT_TRACE=1, and each phase it marks is placed on the
 * benchmark's clock (ms after the spawn began; `reaped` is when the spawn
 * returned): `spawned → cli_loaded` is the runtime's own start and the
 * loading of fanout's code.
 *
 * `--baseline BIN`: another fanout binary (say, built from main) takes part
 * in the same rounds, for before/after ratios measured side by side.
 * `--rounds N` (default 30; `--quick`: 10).
 */
import { cpSync, mkdirSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { report, ROOT, scratchDir, writeFile } from "./lib.ts";
import { compileLikeFanout, ensureFanout } from "./whole/binaries.ts";
import { median, per, ratio } from "./whole/figures.ts";
import { shellPlan } from "./whole/inputs.ts";
import { type Command, runOnce } from "./whole/measure.ts";
import { schedule } from "./whole/schedule.ts";
import { parseTrace, phaseMedians, type TracePoint } from "./whole/trace.ts";

const { values } = parseArgs({
  options: { baseline: { type: "string" }, rounds: { type: "string" }, quick: { type: "boolean", default: false } },
});
const ROUNDS = values.rounds !== undefined ? Number(values.rounds) : values.quick ? 10 : 30;
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1)) throw new RangeError(`--rounds: expected a whole number >= 1, got ${values.rounds}`);

/** The plugin of the `plugin` row: the SDK and one npm package, as a user's plugin would have. */
const PLUGIN = `import { v } from "fanout";
import { parse } from "yaml";
export const input = v.strictObject({ text: v.string() });
export default function run(input: { text: string }) {
  return { data: { parsed: parse(input.text) } };
}
`;

function log(message: string): void {
  process.stderr.write(`startup: ${message}\n`);
}

interface Sample {
  wall: number[];
  cpu: number[];
  traces: TracePoint[][];
  reaped: number[];
}

function main(): void {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const fanout = ensureFanout(log);
  const dir = scratchDir("startup");
  log("compiling the pool and the hello-world with the build flags");
  const pool = compileLikeFanout("min_pool", dir);
  const hello = compileLikeFanout("hello", dir);
  writeFile(dir, "one.list", "true\n");
  cpSync(join(ROOT, "node_modules/yaml"), join(dir, "node_modules/yaml"), { recursive: true });

  const binaries: Record<string, string[]> = { fanout: fanout.argv };
  if (values.baseline) binaries.baseline = [resolve(values.baseline)];
  // Each binary runs its plans in a folder of its own, so each has its own
  // journal and plugin cache beside them: a baseline from before a change of
  // the journal's schema refuses the newer file (node_modules is found above).
  const planDir = (bin: string) => join(dir, bin);
  for (const bin of Object.keys(binaries)) {
    mkdirSync(planDir(bin));
    writeFile(planDir(bin), "one.yml", shellPlan({ name: "one", argv: ["true"] }));
    writeFile(planDir(bin), "plugin.ts", PLUGIN);
    writeFile(planDir(bin), "plugin.yml", "version: 1\nplugins: { p: ./plugin.ts }\ntasks:\n  - { name: one, module: p, with: { text: 'a: 1' } }\n");
  }
  const fanoutCommands: Record<string, string[]> = {
    version: ["--version"],
    one_task: ["run", "one.yml", "-q"],
    json: ["run", "one.yml", "-q", "--json"],
    plugin: ["run", "plugin.yml", "-q"],
  };
  const commands: Record<string, Command> = {
    hello: { argv: [hello], cwd: dir },
    pool: { argv: [pool, "1", "one.list"], cwd: dir },
  };
  for (const [bin, argv] of Object.entries(binaries)) {
    for (const [row, args] of Object.entries(fanoutCommands)) {
      commands[`${bin}/${row}`] = { argv: [...argv, ...args], cwd: planDir(bin) };
      commands[`${bin}/${row}/traced`] = { argv: [...argv, ...args], cwd: planDir(bin), env: { FANOUT_TRACE: "1" } };
    }
  }
  const names = Object.keys(commands);
  const samples = new Map<string, Sample>(names.map((n) => [n, { wall: [], cpu: [], traces: [], reaped: [] }]));
  // Warm-up, not counted: the binaries into the page cache.
  for (const name of names) runOnce(commands[name]!);
  log(`${ROUNDS} rounds of ${names.length} commands`);
  for (const slot of schedule([{ name: "all", contenders: names.length, rounds: ROUNDS, perRound: 1 }])) {
    const name = names[slot.contender]!;
    const o = runOnce(commands[name]!);
    const s = samples.get(name)!;
    s.wall.push(o.wallMs);
    s.cpu.push(o.cpuMs);
    if (name.endsWith("/traced")) {
      s.traces.push(parseTrace(o.stderr, o.spawnedEpochMs));
      s.reaped.push(o.wallMs);
    }
  }

  const ms = (name: string, what: "wall" | "cpu" = "wall") => per(median(samples.get(name)![what]), 1, 2);
  const rows = (bin: string) => ({
    version: {
      ms: { fanout: ms(`${bin}/version`), hello: ms("hello") },
      cpu_ms: { fanout: ms(`${bin}/version`, "cpu"), hello: ms("hello", "cpu") },
      ratio_to_hello: ratio(ms(`${bin}/version`), ms("hello")),
      cpu_ratio_to_hello: ratio(ms(`${bin}/version`, "cpu"), ms("hello", "cpu")),
    },
    one_task: {
      ms: { fanout: ms(`${bin}/one_task`), pool: ms("pool") },
      cpu_ms: { fanout: ms(`${bin}/one_task`, "cpu"), pool: ms("pool", "cpu") },
      ratio_to_pool: ratio(ms(`${bin}/one_task`), ms("pool")),
      cpu_ratio_to_pool: ratio(ms(`${bin}/one_task`, "cpu"), ms("pool", "cpu")),
    },
    json: {
      ms: { with_json: ms(`${bin}/json`), without: ms(`${bin}/one_task`) },
      extra_ms: per((ms(`${bin}/json`) ?? NaN) - (ms(`${bin}/one_task`) ?? NaN), 1, 2),
    },
    plugin: {
      ms: { plugin: ms(`${bin}/plugin`), shell: ms(`${bin}/one_task`) },
      cpu_ms: { plugin: ms(`${bin}/plugin`, "cpu"), shell: ms(`${bin}/one_task`, "cpu") },
      extra_ms: per((ms(`${bin}/plugin`) ?? NaN) - (ms(`${bin}/one_task`) ?? NaN), 1, 2),
    },
    trace: Object.fromEntries(Object.keys(fanoutCommands).map((row) => {
      const s = samples.get(`${bin}/${row}/traced`)!;
      return [row, phaseMedians(s.traces, s.reaped)];
    })),
  });

  report("startup", {
    date: new Date(started).toISOString(),
    machine: { cores: os.availableParallelism(), kernel: os.release(), bun: Bun.version, load_before: loadBefore.map((l) => Math.round(l * 100) / 100), load_after: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    binary: { path: fanout.argv.join(" "), built_now: fanout.built, baseline: values.baseline ?? null },
    rounds: ROUNDS,
    goals: { version: "<= 2x hello-world", one_task: "<= 1.5x the pool", json: "no idle wait at exit (extra_ms is wall time, work included; whole_process splits off the idle part)" },
    fanout: rows("fanout"),
    ...(values.baseline ? { baseline: rows("baseline") } : {}),
    duration_s: Math.round((Date.now() - started) / 1000),
  });
}

main();
