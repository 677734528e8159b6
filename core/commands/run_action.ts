/**
 * The `run` command's action: command-line flags → run options and output
 * sinks. Flag values are checked here, each with a message naming the flag.
 */
import { parseSshFlags, type SshFlags } from "./ssh_flags.ts";
import process from "node:process";
import { parseCoordinator } from "../coordinator/connection.ts";
import { DEFAULT_LEASE_MS } from "../distribute/limits.ts";
import { UsageError } from "../errors.ts";
import { defaultJournalPath } from "../journal/journal_path.ts";
import { EXIT_IO, EXIT_OK } from "../exit_codes.ts";
import { GroupedOutputSink, OUTPUT_MODES, type OutputMode } from "../telemetry/instance_output.ts";
import { checkReportPath } from "../telemetry/report_file.ts";
import { PROGRESS_MODES, type ProgressMode, useDashboard } from "../telemetry/dashboard/progress_mode.ts";
import type { PoolOverrides, StorageType } from "../machine.ts";
import { type Partition, parsePartition } from "../plan/partition.ts";
import type { Selection } from "../plan/select.ts";
import type { EventSink } from "../telemetry/events.ts";
// Static: every run needs it, and a one-task run measured faster so (docs/benchmarks.md).
import { type RunOptions, runCommand } from "./run.ts";
import { writeStderr } from "../runtime/stderr.ts";
import { writeStdout } from "../runtime/stdout.ts";
import { trace } from "../runtime/trace.ts";
import { parseDuration, parseSize } from "../units.ts";

export interface RunFlags extends SshFlags {
  json?: boolean;
  parallelism?: unknown;
  failFast?: boolean;
  keepGoing?: boolean;
  dryRun?: boolean;
  strict?: boolean;
  var?: unknown;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  cpuTokens?: unknown;
  ioTokens?: unknown;
  ioQdepth?: unknown;
  storageType?: unknown;
  memFree?: unknown;
  killGrace?: unknown;
  /** A path (--journal PATH), false (--no-journal), or true/undefined: the default, beside the plan. */
  journal?: unknown;
  resume?: boolean;
  junit?: unknown;
  summary?: unknown;
  output?: unknown;
  progress?: unknown;
  limit?: unknown;
  only?: unknown;
  startAt?: unknown;
  coordinator?: unknown;
  coordinatorPrefix?: unknown;
  leaseTtl?: unknown;
  partition?: unknown;
  distribute?: boolean;
  /** --no-local: false. */
  local?: boolean;
  name?: unknown;
}

const STORAGE_TYPES: readonly StorageType[] = ["auto", "nvme", "ssd", "hdd"];

const got = (value: unknown) => `got ${JSON.stringify(value)}`;

export function parseParallelism(value: unknown): number | "auto" | undefined {
  if (value === undefined || value === "auto") return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--parallelism: expected auto or a whole number >= 1, ${got(value)}`);
  return n;
}

function parseCount(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag}: expected a whole number >= 1, ${got(value)}`);
  return n;
}

/** `--var a=1 --var b=2` (cac gives a string for one, an array for several). */
export function parseVars(value: unknown): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const entry of [value ?? []].flat()) {
    const text = String(entry);
    const eq = text.indexOf("=");
    if (eq <= 0) throw new UsageError(`--var: expected key=value, ${got(text)}`);
    vars[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return vars;
}

function parseStorageType(value: unknown): StorageType | undefined {
  if (value === undefined) return undefined;
  const found = STORAGE_TYPES.find((t) => t === value);
  if (!found) throw new UsageError(`--storage-type: expected one of ${STORAGE_TYPES.join(", ")}, ${got(value)}`);
  return found;
}

function parseMemFree(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseSize(String(value));
  if (bytes === undefined) throw new UsageError(`--mem-free: expected a size like 1GiB or 512M, ${got(value)}`);
  return bytes;
}

function parseKillGrace(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(String(value));
  if (ms === undefined || !(ms > 0)) throw new UsageError(`--kill-grace: expected a duration > 0 like 500ms or 5s, ${got(value)}`);
  return ms;
}

/** --coordinator, --coordinator-prefix, --lease-ttl: checked before the plan is read. */
export function parseCoordinatorFlags(flags: Pick<RunFlags, "coordinator" | "coordinatorPrefix" | "leaseTtl">): Pick<RunOptions, "coordinator" | "coordinatorPrefix" | "leaseTtlMs"> {
  const out: Pick<RunOptions, "coordinator" | "coordinatorPrefix" | "leaseTtlMs"> = {};
  if (flags.coordinator !== undefined) {
    if (typeof flags.coordinator !== "string") throw new UsageError(`--coordinator: expected one URL like redis://host:6379, ${got(flags.coordinator)}`);
    const address = parseCoordinator(flags.coordinator);
    if (typeof address === "string") throw new UsageError(`--coordinator: ${address}`);
    out.coordinator = flags.coordinator;
  }
  if (flags.coordinatorPrefix !== undefined) {
    if (typeof flags.coordinatorPrefix !== "string" || flags.coordinatorPrefix === "") throw new UsageError(`--coordinator-prefix: expected a key prefix like fanout:, ${got(flags.coordinatorPrefix)}`);
    out.coordinatorPrefix = flags.coordinatorPrefix;
  }
  if (flags.leaseTtl !== undefined) {
    const ms = parseDuration(String(flags.leaseTtl));
    if (ms === undefined || !(ms >= 100)) throw new UsageError(`--lease-ttl: expected a duration of at least 100ms, like 30s, ${got(flags.leaseTtl)}`);
    out.leaseTtlMs = ms;
  }
  return out;
}

/** `--only a,b --only c`: names, comma-separated, the flag repeatable. */
function parseNames(flag: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const names = [value].flat().flatMap((v) => String(v).split(",")).map((n) => n.trim());
  if (names.some((n) => n === "" || n === "true")) throw new UsageError(`${flag}: expected one or more names, comma-separated, ${got(value)}`);
  return names;
}

/** --limit, --only, --start-at (core/plan/select.ts); undefined when none is given. */
export function parseSelection(flags: Pick<RunFlags, "limit" | "only" | "startAt">): Selection | undefined {
  const limit = parseNames("--limit", flags.limit);
  const only = parseNames("--only", flags.only);
  const startAt = parseNames("--start-at", flags.startAt);
  if (startAt && startAt.length > 1) throw new UsageError(`--start-at: expected one task, ${got(flags.startAt)}`);
  if (!limit && !only && !startAt) return undefined;
  return { limit, only, startAt: startAt?.[0] };
}

/**
 * The journal file for this run: --journal PATH; none with --no-journal; by
 * default `.fanout/journal.db` beside the plan — but none for a plan read
 * from stdin, which has no place of its own.
 */
export function journalPath(planFile: string, flags: Pick<RunFlags, "journal" | "resume">): string | undefined {
  const { journal } = flags;
  if (typeof journal === "string" && journal !== "") return journal;
  if (journal !== undefined && journal !== true && journal !== false) throw new UsageError(`--journal: expected a file path, ${got(journal)}`);
  let path: string | undefined;
  if (journal !== false && planFile !== "-") path = defaultJournalPath(planFile);
  if (flags.resume && path === undefined) {
    throw new UsageError(journal === false
      ? "--resume needs the journal, and --no-journal turns it off: drop one of them"
      : "--resume needs a journal, and a plan read from stdin has none by default: give --journal PATH");
  }
  return path;
}

/** `--junit FILE`, `--summary FILE`: a path that can be written, tried now, before anything runs. */
function parseReportPath(flag: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new UsageError(`${flag}: expected one file path, ${got(value)}`);
  checkReportPath(flag, value);
  return value;
}

function parseOutput(value: unknown, json: boolean): OutputMode | undefined {
  if (value === undefined || value === "default") return undefined;
  const found = OUTPUT_MODES.find((m) => m === value);
  if (!found) throw new UsageError(`--output: expected one of default, ${OUTPUT_MODES.join(", ")}, ${got(value)}`);
  if (json) throw new UsageError(`--output ${found} cannot be combined with --json: stdout carries only NDJSON there (each instance's output is in its task_end's data.stdout and data.stderr)`);
  return found;
}

function parseProgress(value: unknown): ProgressMode {
  if (value === undefined) return "auto";
  const found = PROGRESS_MODES.find((m) => m === value);
  if (!found) throw new UsageError(`--progress: expected one of ${PROGRESS_MODES.join(", ")}, ${got(value)}`);
  return found;
}

/** --coordinator URL --distribute [--no-local] [--name W]; undefined without --distribute. The lease is --lease-ttl's. */
export function parseDistribute(flags: Pick<RunFlags, "coordinator" | "coordinatorPrefix" | "distribute" | "local" | "name" | "dryRun">, leaseTtlMs: number | undefined): RunOptions["distribute"] {
  if (!flags.distribute) {
    for (const [given, flag] of [[flags.local === false, "--no-local"], [flags.name !== undefined, "--name"]] as const) {
      if (given) throw new UsageError(`${flag} is about a distributed run: give --distribute too`);
    }
    return undefined;
  }
  if (flags.dryRun) throw new UsageError("--distribute runs the plan on workers: it does nothing with --dry-run");
  if (typeof flags.coordinator !== "string") throw new UsageError("--distribute needs --coordinator redis://host:port: the Redis the workers wait on");
  const prefix = typeof flags.coordinatorPrefix === "string" && flags.coordinatorPrefix !== "" ? flags.coordinatorPrefix : undefined;
  const coordinator = parseCoordinator(flags.coordinator, prefix);
  if (typeof coordinator === "string") throw new UsageError(`--coordinator: ${coordinator}`);
  if (flags.name !== undefined && (typeof flags.name !== "string" || flags.name === "")) throw new UsageError(`--name: expected a runner name, ${got(flags.name)}`);
  return { coordinator, local: flags.local !== false, leaseMs: leaseTtlMs ?? DEFAULT_LEASE_MS, name: flags.name as string | undefined };
}

export async function runAction(planFile: string, flags: RunFlags, signal: AbortSignal): Promise<number> {
  if (flags.failFast && flags.keepGoing) throw new UsageError("--fail-fast and --keep-going contradict each other: give one");
  const killGraceMs = parseKillGrace(flags.killGrace);
  const ssh = parseSshFlags(flags);
  const journal = flags.dryRun ? undefined : journalPath(planFile, flags);
  const output = parseOutput(flags.output, Boolean(flags.json));
  const coordinator = parseCoordinatorFlags(flags);
  const distribute = parseDistribute(flags, coordinator.leaseTtlMs);
  if (distribute && output === "tag") throw new UsageError("--output tag shows output as it is read, here: with --distribute it is read on the workers (use --output grouped)");
  const progress = parseProgress(flags.progress);
  if (flags.dryRun && (flags.junit !== undefined || flags.summary !== undefined)) throw new UsageError("--junit and --summary report a run: they do nothing with --dry-run");
  const junitPath = parseReportPath("--junit", flags.junit);
  const summaryPath = parseReportPath("--summary", flags.summary);
  const common: PoolOverrides & { parallelism?: number | "auto"; vars: Record<string, string>; strict: boolean; maskOutput: { json: boolean }; select?: Selection; partition?: Partition } = {
    strict: Boolean(flags.strict),
    select: parseSelection(flags),
    partition: flags.partition === undefined ? undefined : parsePartition(String(flags.partition)),
    maskOutput: { json: Boolean(flags.json) },
    parallelism: parseParallelism(flags.parallelism),
    vars: parseVars(flags.var),
    cpuTokens: parseCount("--cpu-tokens", flags.cpuTokens),
    ioTokens: parseCount("--io-tokens", flags.ioTokens ?? flags.ioQdepth),
    storageType: parseStorageType(flags.storageType),
    memFree: parseMemFree(flags.memFree),
  };
  trace("run_loaded");
  if (flags.dryRun) {
    const { printDryRun } = await import("./dry_run_output.ts");
    const { dryRunCommand } = await import("./dry_run.ts");
    const result = await dryRunCommand(planFile, common);
    for (const warning of result.warnings) writeStderr(`warning: ${warning}\n`);
    printDryRun(result, Boolean(flags.json), (s) => writeStdout(s));
    return 0;
  }
  const sinks: EventSink[] = [];
  if (flags.json) {
    const { NdjsonSink } = await import("../telemetry/ndjson.ts");
    sinks.push(new NdjsonSink({ write: (chunk, done) => (writeStdout(chunk, () => done?.()), true) }));
  }
  // Set when a report could not be written at the end: the run's results did not reach their reader.
  let reportFailed = false;
  const reportError = (flag: string, path: string) => (error: Error) => {
    reportFailed = true;
    writeStderr(`error: ${flag}: cannot write ${path}: ${error.message}\n`);
  };
  if (junitPath !== undefined) {
    const { JunitSink } = await import("../telemetry/junit.ts");
    sinks.push(new JunitSink(junitPath, reportError("--junit", junitPath)));
  }
  if (summaryPath !== undefined) {
    const { SummaryFileSink } = await import("../telemetry/summary_file.ts");
    sinks.push(new SummaryFileSink(summaryPath, reportError("--summary", summaryPath)));
  }
  // Before the human sink: an instance's block comes out just above its status line.
  if (output === "grouped") sinks.push(new GroupedOutputSink((s) => writeStdout(s), writeStderr));
  let observeOutput: RunOptions["observeOutput"];
  if (output === "tag") {
    const { TaggedLines } = await import("../telemetry/tagged_lines.ts");
    observeOutput = (id) => new TaggedLines(id, (s) => writeStdout(s), writeStderr);
  }
  let watchGuards: RunOptions["watchGuards"];
  if (!flags.quiet) {
    // node:tty, not process.stderr.isTTY: fanout does not set up process.stderr (runtime/fd_stream.ts).
    const { isatty } = await import("node:tty");
    const tty = isatty(2);
    const color = flags.color !== false && tty && !process.env.NO_COLOR;
    if (useDashboard(progress, { tty, env: process.env, output: output !== undefined })) {
      const { openDashboard } = await import("../telemetry/dashboard/open.ts");
      const dashboard = openDashboard({ color, verbose: flags.verbose });
      sinks.push(dashboard);
      watchGuards = (guardsNow) => dashboard.watch(guardsNow);
    } else {
      const { HumanSink } = await import("../telemetry/human.ts");
      // With --output the whole of each instance's stderr is shown already.
      sinks.push(new HumanSink(writeStderr, { color, verbose: flags.verbose, stderrTail: output === undefined ? undefined : 0 }));
    }
  }
  trace("sinks_ready");
  const warn = (message: string) => writeStderr(`warning: ${message}\n`);
  const code = await runCommand(planFile, { ...common, failFast: Boolean(flags.failFast), killGraceMs, sinks, observeOutput, signal, journal, resume: Boolean(flags.resume), warn, watchGuards, ssh, distribute, ...coordinator });
  return reportFailed && code === EXIT_OK ? EXIT_IO : code;
}
