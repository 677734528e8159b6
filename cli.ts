#!/usr/bin/env bun
/**
 * fanout's command line: a table of commands, each lazily importing its
 * implementation. This file is the one place where errors become messages
 * and exit codes, and where Ctrl-C becomes the root abort.
 */
import process from "node:process";
import { cac } from "./core/deps.ts";
import { describeError, PlanError, PlanErrors, PluginError, UsageError } from "./core/errors.ts";
import { EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_INVALID } from "./core/exit_codes.ts";
import { killAllChildren, settleChildren } from "./core/runtime/spawn.ts";
import { guardStdout, writeStdout } from "./core/runtime/stdout.ts";
import type { RunFlags } from "./core/commands/run_action.ts";
import { VERSION } from "./core/version.ts";


const root = new AbortController();

function run(planFile: string, flags: RunFlags): Promise<number> {
  return import("./core/commands/run_action.ts").then((m) => m.runAction(planFile, flags, root.signal));
}

interface ProbeFlags {
  json?: boolean;
  calibrate?: boolean;
  budget?: unknown;
}

async function probe(target: string | undefined, flags: ProbeFlags): Promise<number> {
  let budgetMs: number | undefined;
  if (flags.budget !== undefined) {
    const { parseDuration } = await import("./core/units.ts");
    budgetMs = parseDuration(String(flags.budget));
    if (budgetMs === undefined) throw new UsageError(`--budget: expected a duration like 300ms or 2s, got ${JSON.stringify(flags.budget)}`);
  }
  const { probeCommand } = await import("./core/commands/probe.ts");
  const { printProbe } = await import("./core/commands/probe_output.ts");
  const report = await probeCommand(target, { calibrate: Boolean(flags.calibrate), budgetMs, signal: root.signal });
  printProbe(report, Boolean(flags.json), (s) => writeStdout(s));
  return 0;
}

async function types(dir: string | undefined): Promise<number> {
  const { typesCommand } = await import("./core/commands/types.ts");
  writeStdout(`wrote ${typesCommand(dir)}\n`);
  return 0;
}

function buildCli() {
  const cli = cac("fanout");
  cli
    .command("run <plan>", "Run a plan: every task over its hosts and items, as its hints allow")
    .option("--json", "Write NDJSON events to stdout (human progress stays on stderr)")
    .option("-p, --parallelism <n>", "Fork limit: a whole number, or auto (overrides the plan)")
    .option("--fail-fast", "On the first failure start nothing more and cancel what runs")
    .option("--keep-going", "Run everything that does not depend on a failure (default)")
    .option("--dry-run", "List every instance with the guards it would take; run nothing")
    .option("--strict", "Treat plan warnings (a glob that matches nothing) as errors")
    .option("--var <key=value>", "Set a plan variable (repeatable)")
    .option("--cpu-tokens <n>", "CPU token pool size (default: cores - 1)")
    .option("--io-tokens <n>", "I/O token pool size (default: from the storage device)")
    .option("--io-qdepth <n>", "Alias of --io-tokens")
    .option("--storage-type <type>", "Size I/O for this storage: auto, nvme, ssd or hdd")
    .option("--mem-free <size>", "Start nothing while less memory than this is available (e.g. 1GiB)")
    .option("-q, --quiet", "No human progress on stderr")
    .option("--verbose", "Show modules' info and debug logs too")
    .option("--no-color", "No colours in human output")
    .example("fanout run deploy.yml --json | jq 'select(.type==\"task_end\")'")
    .action(run);
  cli
    .command("probe [path]", "Show the disk under a path (default: .), its class and I/O depths, cores and memory")
    .option("--json", "Write one JSON object to stdout")
    .option("--calibrate", "Measure read throughput per depth (about 2.5 s) and cache the knee for this device")
    .option("--budget <duration>", "Calibration time budget (default 2.5s)")
    .example("fanout probe /data --calibrate")
    .action(probe);
  cli
    .command("types [dir]", "Write fanout.d.ts into a folder (default: .), for editors to type-check plugins")
    .example("fanout types plugins/")
    .action(types);
  cli.help();
  cli.version(VERSION);
  return cli;
}

/** Message and exit code for anything thrown: the only place this happens. */
function report(error: unknown): number {
  if (error instanceof PlanErrors) {
    for (const e of error.errors) process.stderr.write(`error: ${e.message}\n`);
    return EXIT_INVALID;
  }
  if (error instanceof PlanError || error instanceof PluginError || error instanceof UsageError) {
    process.stderr.write(`error: ${describeError(error)}\n`);
    return EXIT_INVALID;
  }
  if (error instanceof Error && error.name === "CACError") {
    process.stderr.write(`error: ${error.message}\nRun fanout --help for usage.\n`);
    return EXIT_INVALID;
  }
  process.stderr.write(`fanout: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  return EXIT_INTERNAL;
}

export async function main(argv: string[]): Promise<number> {
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\nfanout: ${signal}: cancelling running instances (again to exit now)\n`);
      root.abort(new Error(signal));
    } else {
      killAllChildren("SIGKILL");
      process.exit(EXIT_INTERRUPTED);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  guardStdout();
  try {
    const cli = buildCli();
    cli.parse(["node", "fanout", ...argv], { run: false });
    if (cli.options.help || cli.options.version) return 0;
    if (!cli.matchedCommand) {
      if (cli.args.length > 0) throw new UsageError(`unknown command "${cli.args[0]}"; expected one of: ${cli.commands.map((c) => c.name).join(", ")}`);
      cli.outputHelp();
      return EXIT_INVALID;
    }
    const code = await cli.runMatchedCommand();
    await settleChildren();
    return typeof code === "number" ? code : 0;
  } catch (error) {
    return report(error);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

if (import.meta.main) {
  // No top-level await: the compiled binary's bytecode cache does not allow it.
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // A module that ignored its abort may leave timers or sockets behind; they
    // must not keep a finished run alive. Output was flushed before main returned.
    setTimeout(() => process.exit(code), 100).unref();
  });
}
