#!/usr/bin/env bun
/**
 * fanout's command line: a table of commands, each lazily importing its
 * implementation. This file is the one place where errors become messages
 * and exit codes, and where a signal (or a stdout that cannot be written)
 * becomes the root abort. `fanout --version` loads none of the command
 * machinery (cac, yaml, valibot, process spawning).
 */
import process from "node:process";
import type { ExplainFlags } from "./core/commands/explain_action.ts";
import type { HistoryFlags } from "./core/commands/history.ts";
import type { ProbeFlags } from "./core/commands/probe.ts";
import type { RunFlags } from "./core/commands/run_action.ts";
import type { WorkerFlags } from "./core/commands/worker.ts";
import { checkOptions } from "./core/commands/check_options.ts";
import { fromCacArgs, toCacArgv } from "./core/commands/cli_argv.ts";
import { type CliCommand, commandHelp, HELP_OPTION, programHelp, TOP_OPTIONS } from "./core/commands/help.ts";
import { UsageError } from "./core/errors.ts";
import { EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_IO } from "./core/exit_codes.ts";
import { guardStderr, stderrDrained, writeStderr } from "./core/runtime/stderr.ts";
import { guardStdout, onStdoutFailure, stdoutDrained, stdoutFailure, writeStdout } from "./core/runtime/stdout.ts";
import { trace } from "./core/runtime/trace.ts";
import { userCodeLoaded } from "./core/runtime/user_code.ts";
import { didYouMean } from "./core/suggest.ts";
import { errorEvents, errorKind } from "./core/telemetry/error_event.ts";
import { versionLine } from "./core/version.ts";

const SUMMARY = "fanout: a parallel task runner that enforces each module's parallelization hint";

const root = new AbortController();

function run(planFile: string, flags: RunFlags): Promise<number> {
  return import("./core/commands/run_action.ts").then((m) => m.runAction(planFile, flags, root.signal));
}

function worker(flags: WorkerFlags): Promise<number> {
  return import("./core/commands/worker.ts").then((m) => m.workerAction(flags, root.signal));
}

function explain(planFile: string, flags: ExplainFlags): Promise<number> {
  return import("./core/commands/explain_action.ts").then((m) => m.explainAction(planFile, flags));
}

function probe(target: string | undefined, flags: ProbeFlags): Promise<number> {
  return import("./core/commands/probe.ts").then((m) => m.probeAction(target, flags, root.signal));
}

async function history(plan: string | undefined, flags: HistoryFlags): Promise<number> {
  const { historyAction } = await import("./core/commands/history.ts");
  return historyAction(plan, flags, writeStdout);
}

async function types(dir: string | undefined): Promise<number> {
  const { typesCommand } = await import("./core/commands/types.ts");
  writeStdout(`wrote ${typesCommand(dir)}\n`);
  return 0;
}

async function schema(): Promise<number> {
  const { schemaText } = await import("./core/commands/schema.ts");
  writeStdout(schemaText());
  return 0;
}

async function check(plugin: string, flags: { json?: boolean }): Promise<number> {
  const { checkPlugin, formatReport } = await import("./core/commands/check.ts");
  const report = await checkPlugin(plugin);
  writeStdout(flags.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  return 0;
}

async function init(dir: string | undefined): Promise<number> {
  const { initCommand } = await import("./core/commands/init.ts");
  writeStdout(initCommand(dir).map((f) => `wrote ${f}\n`).join(""));
  return 0;
}

async function completion(shell: string, commands: CliCommand[]): Promise<number> {
  const { completionScript } = await import("./core/commands/completion.ts");
  writeStdout(completionScript(shell, commands));
  return 0;
}

/** The commands cac is told of, in the order help lists them. */
const COMMANDS = ["run", "worker", "explain", "probe", "history", "types", "schema", "check", "init", "completion", "help"];

/**
 * The command table. `only` declares just that command: a run needs its own
 * options, not the 30 others' (cac parses every declared option's name with
 * regular expressions as it is declared, about 1 ms of a run's start).
 */
async function buildCli(only?: string) {
  const { cac } = await import("./core/deps.ts");
  const cli = cac("fanout");
  const wanted = (name: string) => only === undefined || only === name;
  if (wanted("run")) {
    cli
      .command("run <plan>", "Run a plan (a file, or - for stdin): every task over its hosts and items, as its hints allow")
      .option("--json", "Write NDJSON events to stdout (human progress stays on stderr)")
      .option("-p, --parallelism <n>", "Fork limit: a whole number, or auto (overrides the plan)")
      .option("--fail-fast", "On the first failure start nothing more and cancel what runs")
      .option("--keep-going", "Run everything that does not depend on a failure (default)")
      .option("--dry-run", "List every instance with the guards it would take; run nothing")
      .option("--strict", "Treat plan warnings (a glob that matches nothing) as errors")
      .option("--var <key=value>", "Set a plan variable (repeatable)")
      .option("--limit <hosts>", "Plan only these hosts (comma-separated, repeatable)")
      .option("--only <tasks>", "Plan only these tasks or parallel: groups and what they need, transitively (comma-separated, repeatable)")
      .option("--start-at <task>", "Plan nothing before this task in plan order; its needs on skipped tasks count as met")
      .option("--partition <share>", "Run share K of N (K/N, slice:K/N or hash:K/N): N machines with K = 1..N run every instance once; shared by host, or by item in a plan of one host")
      .option("--cpu-tokens <n>", "CPU token pool size (default: the cores fanout may use)")
      .option("--io-tokens <n>", "I/O token pool size (default: from the storage device)")
      .option("--io-qdepth <n>", "Alias of --io-tokens")
      .option("--storage-type <type>", "Size I/O for this storage: auto, nvme, ssd or hdd")
      .option("--mem-free <size>", "Start nothing while less memory than this is available (e.g. 1GiB)")
      .option("--kill-grace <duration>", "SIGTERM to SIGKILL for a cancelled command's process group, where the task sets no kill_grace (default 5s)")
      .option("--ssh-config <file>", "An ssh_config file for every ssh call (ssh -F)")
      .option("--ssh-accept-new", "Add host keys seen for the first time to known_hosts (StrictHostKeyChecking=accept-new); changed keys are still refused")
      .option("--retries-unreachable <n>", "Connect again up to N times (1s, 2s, 4s… apart) before an ssh host counts as unreachable (default 0)")
      .option("--junit <file>", "Write a JUnit XML report (one testcase per instance) when the run ends")
      .option("--summary <file>", "Write run_end's summary as JSON when the run ends")
      .option("--output <mode>", "Show each instance's stdout/stderr: tag (each line as it comes, prefixed with its id) or grouped (one block each, when it ends); not with --json")
      .option("--progress <mode>", "Human progress on stderr: auto (a live dashboard on a terminal, else lines), always (the dashboard), never (lines)")
      .option("-q, --quiet", "No human progress on stderr")
      .option("--verbose", "Show modules' info and debug logs too")
      .option("--no-color", "No colours in human output")
      .option("--journal [path]", "Record the run in this journal file (default: .fanout/journal.db beside the plan; none for a plan from stdin)")
      .option("--no-journal", "Record nothing")
      .option("--resume", "Skip instances the journal records ok in an earlier run of this plan (they end as cached)")
      .option("--coordinator <url>", "Share host locks, global locks and token buckets with every run using this Redis (and, with --distribute, hand instances to workers): redis://[user:pass@]host:port[/db] or rediss:// (overrides the plan's coordinator:)")
      .option("--coordinator-prefix <prefix>", "Start every key on the coordinator with this (default fanout:)")
      .option("--lease-ttl <duration>", "How long a lease on the coordinator lives without renewal: a killed runner's locks stay taken, and its claimed instances wait, this long (default 30s)")
      .option("--distribute", "Publish the run on the coordinator: fanout workers (and this process) run its instances")
      .option("--no-local", "With --distribute: run nothing here, only on workers")
      .option("--name <runner>", "With --distribute: this process's name as a runner (default host:pid)")
      .example("fanout run deploy.yml --json | jq 'select(.type==\"task_end\")'")
      .example("generate-plan | fanout run - --dry-run")
      .example("fanout run deploy.yml --resume")
      .example("fanout run ci.yml --junit report.xml --summary summary.json")
      .example("fanout run build.yml --output tag")
      .example("fanout run deploy.yml --limit web1,web2 --only restart")
      .example("fanout run ci.yml --partition hash:2/4")
      .example("fanout run big.yml --coordinator redis://queue:6379 --distribute --json")
      .action(run);
  }
  if (wanted("worker")) {
    cli
      .command("worker", "Wait for runs published with run --distribute on the coordinator and run their instances, until stopped")
      .option("--coordinator <url>", "The Redis runs are published on: redis://[user:pass@]host:port[/db] or rediss://")
      .option("--forks <n>", "Instances run at once here (default: the cores)")
      .option("--name <runner>", "This worker's name in events (default host:pid)")
      .example("fanout worker --coordinator redis://queue:6379 --forks 8")
      .action(worker);
  }
  if (wanted("explain")) {
    cli
      .command("explain <plan>", "Explain a plan without running it: tasks, hints and where they come from, guards, parallelism, critical path, conflicts, predicted makespan")
      .option("--json", "Write one JSON object to stdout")
      .option("-p, --parallelism <n>", "Fork limit: a whole number, or auto (overrides the plan)")
      .option("--var <key=value>", "Set a plan variable (repeatable)")
      .option("--limit <hosts>", "Only these hosts (comma-separated, repeatable)")
      .option("--only <tasks>", "Only these tasks or parallel: groups and what they need (comma-separated, repeatable)")
      .option("--start-at <task>", "Nothing before this task in plan order")
      .option("--strict", "Treat plan warnings (a glob that matches nothing) as errors")
      .option("--journal [path]", "Read earlier runs' durations from this journal (default: .fanout/journal.db beside the plan)")
      .option("--no-journal", "Predict nothing from earlier runs")
      .example("fanout explain deploy.yml")
      .example("fanout explain deploy.yml --json | jq .makespan")
      .example("fanout explain deploy.yml -p 4 --only restart")
      .action(explain);
  }
  if (wanted("probe")) {
    cli
      .command("probe [path]", "Show the disk under a path (default: .), its class and I/O depths, cores and memory")
      .option("--json", "Write one JSON object to stdout")
      .option("--calibrate", "Measure read throughput per depth (about 2.5 s) and cache the knee for this device")
      .option("--budget <duration>", "Calibration time budget (default 2.5s; under 1s warns that the result may not be representative)")
      .option("--forget", "Drop this device's cached calibration (before calibrating, with --calibrate)")
      .option("--host <host>", "Probe an ssh host instead ([user@]address[:port] or an ssh config alias); path is then on that host (default: the login directory)")
      .option("--ssh-config <file>", "With --host: the ssh config file (ssh -F)")
      .option("-o, --ssh-option <key=value>", "With --host: an ssh option (ssh -o, repeatable)")
      .example("fanout probe /data --json | jq .device.class")
      .example("fanout probe /data --calibrate")
      .example("fanout probe /data --forget")
      .example("fanout probe --host deploy@10.0.0.5 /srv --json")
      .action(probe);
  }
  if (wanted("history")) {
    cli
      .command("history [plan]", "Show past runs from the journal (of a plan file, or a plan name), one run's instances, or what failed last time")
      .option("--json", "One JSON object per line on stdout")
      .option("--journal [path]", "Read this journal (default: .fanout/journal.db beside the plan, or in the current directory)")
      .option("--run <id>", "List the instances (every attempt) of this run")
      .option("--failed", "List what did not succeed in the latest run")
      .example("fanout history deploy.yml")
      .example("fanout history deploy.yml --failed --json | jq -r .id")
      .action(history);
  }
  if (wanted("types")) {
    cli
      .command("types [dir]", "Write fanout.d.ts into a folder (default: .), for editors to type-check plugins")
      .example("fanout types plugins/")
      .action(types);
  }
  if (wanted("schema")) {
    cli
      .command("schema", "Print the plan's JSON Schema (draft-07), for completion and checks in editors")
      .example("fanout schema > fanout.schema.json   # then, atop a plan: # yaml-language-server: $schema=fanout.schema.json")
      .action(schema);
  }
  if (wanted("check")) {
    cli
      .command("check <plugin>", "Load a plugin as a run would and show its hint, resources, input schema and description")
      .option("--json", "Write one JSON object to stdout")
      .example("fanout check plugins/hello.ts")
      .action(check);
  }
  if (wanted("init")) {
    cli
      .command("init [dir]", "Start a project in a folder (default: .): a plan, a typed plugin, fanout.d.ts, the plan's JSON Schema, tsconfig.json and package.json")
      .example("fanout init hello && cd hello && fanout run plan.yml")
      .action(init);
  }
  if (wanted("completion")) {
    cli
      .command("completion <shell>", "Print a shell completion script (bash; zsh loads it with bashcompinit)")
      .example("source <(fanout completion bash)")
      .example("fanout completion bash > ~/.local/share/bash-completion/completions/fanout")
      .action((shell: string) => completion(shell, cli.commands));
  }
  if (wanted("help")) {
    cli
      .command("help [command]", "Show the options of a command, or this overview")
      .example("fanout help run")
      .action((name: string | undefined) => (writeStdout(helpText(name)), 0));
  }
  // Declared so that cac parses them as flags (`fanout -v run` is not -v="run");
  // checkOptions decides where they may appear.
  for (const option of TOP_OPTIONS) cli.option(option.rawName, option.description);

  function helpText(name?: string): string {
    if (name === undefined) return programHelp(SUMMARY, cli.commands);
    const command = cli.commands.find((c) => c.name === name);
    if (!command) throw unknownCommand(name, cli.commands);
    return commandHelp(command);
  }
  return { cli, helpText };
}

function unknownCommand(name: string, commands: { name: string }[]): UsageError {
  return new UsageError(`unknown command "${name}"${didYouMean(name, commands.map((c) => c.name))}; expected one of: ${commands.map((c) => c.name).join(", ")}`);
}

/** What the command line turned out to say, for report(). */
interface Invocation {
  /** --json was given to a command that has it: errors are also events on stdout. */
  json: boolean;
  /** The command named, for the "fanout help <command>" hint. */
  command?: string;
}

/** Parses argv and runs the command it names; returns the exit code. */
async function route(argv: string[], invocation: Invocation): Promise<number> {
  // A command named first is the one cac will match; help and completion list every command.
  const first = argv[0];
  const only = first !== undefined && COMMANDS.includes(first) && first !== "help" && first !== "completion" ? first : undefined;
  const { cli, helpText } = await buildCli(only);
  trace("cac_loaded");
  cli.parse(["node", "fanout", ...toCacArgv(argv)], { run: false });
  cli.args = fromCacArgs(cli.args);
  const command = cli.matchedCommand;
  if (command) {
    if (command.name !== "help") invocation.command = command.name;
    invocation.json = command.options.some((o) => o.name === "json") && cli.options.json === true;
    checkOptions(cli.options, [...command.options, HELP_OPTION], argv, command.name);
    if (cli.options.help) return writeStdout(helpText(command.name)), 0;
    const code = await cli.runMatchedCommand();
    return typeof code === "number" ? code : 0;
  }
  checkOptions(cli.options, TOP_OPTIONS, argv);
  if (cli.args.length > 0) throw unknownCommand(String(cli.args[0]), cli.commands);
  if (cli.options.help) return writeStdout(helpText()), 0;
  if (cli.options.version) return writeStdout(`${versionLine()}\n`), 0;
  // Bare `fanout` is a usage error: the overview goes to stderr, stdout stays empty.
  writeStderr(helpText());
  return EXIT_INVALID;
}

/** Message and exit code for anything thrown: the only place this happens. */
function report(error: unknown, invocation: Invocation): number {
  const kind = errorKind(error);
  const code = kind === "internal" ? EXIT_INTERNAL : EXIT_INVALID;
  const events = errorEvents(error, code);
  if (kind === "internal") {
    writeStderr(`fanout: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  } else {
    for (const e of events) writeStderr(`error: ${e.message}\n`);
  }
  if (kind === "usage") writeStderr(`Run "fanout help${invocation.command ? ` ${invocation.command}` : ""}" for usage.\n`);
  if (invocation.json) for (const e of events) writeStdout(`${JSON.stringify(e)}\n`);
  return code;
}

export async function main(argv: string[]): Promise<number> {
  trace("cli_loaded");
  // A stdout that fails (a full disk, EIO; not a reader that left) ends the
  // run the way a signal does: cancel what runs, then exit EXIT_IO.
  onStdoutFailure((error) => {
    writeStderr(`error: cannot write to stdout (${error.message}): stopping\n`);
    root.abort(error);
  });
  const code = await mainCode(argv);
  await Promise.all([stdoutDrained(), stderrDrained()]);
  trace("stdout_drained");
  return stdoutFailure() ? EXIT_IO : code;
}

async function mainCode(argv: string[]): Promise<number> {
  // The fast path: no command table, no plan machinery.
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) return writeStdout(`${versionLine()}\n`), 0;
  // From here on a plugin's console.log or a runtime's own message may write too.
  guardStdout();
  guardStderr();
  const { killAllChildren, settleChildren } = await import("./core/runtime/spawn.ts");
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      writeStderr(`\nfanout: ${signal}: cancelling running instances (again to exit now)\n`);
      root.abort(new Error(signal));
    } else {
      killAllChildren("SIGKILL");
      process.exit(EXIT_INTERRUPTED);
    }
  };
  // SIGHUP too: children run in their own sessions, so a closed terminal or
  // a dropped SSH connection reaches only fanout, which must pass it on.
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, onSignal);
  const invocation: Invocation = { json: false };
  try {
    const code = await route(argv, invocation);
    await settleChildren();
    trace("children_settled");
    return code;
  } catch (error) {
    return report(error, invocation);
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

if (import.meta.main) {
  // No top-level await: the compiled binary's bytecode cache does not allow it.
  process.once("exit", () => trace("exit"));
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Output was flushed and the children settled before main returned, and
    // nothing of fanout's own is left pending (cli_exit.test.ts): without a
    // user's plugin the process ends now, skipping the runtime's wind-down
    // after its event loop empties (core/runtime/user_code.ts). A plugin may
    // have left timers or sockets behind; they get a moment (a late fault is
    // still reported), not the power to keep a finished run alive.
    if (!userCodeLoaded()) process.exit(code);
    setTimeout(() => process.exit(code), 100).unref();
  });
}
