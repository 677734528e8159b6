/**
 * `fanout run plan.yml`: load, resolve, schedule, report. Returns the exit
 * code; errors in the plan or its plugins are thrown (typed) for cli.ts to
 * turn into messages.
 */
import { parseCoordinator } from "../coordinator/connection.ts";
import { DEFAULT_IN_FLIGHT } from "../distribute/limits.ts";
import { describeError, UsageError } from "../errors.ts";
import type { SharedGuards } from "../guards/remote/shared_guards.ts";
import { EXIT_FAILED, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK } from "../exit_codes.ts";
import { buildGraph, type Graph } from "../graph.ts";
import { GuardRequests } from "../guard_requests.ts";
import { type RunJobserver, runJobserver } from "../jobserver.ts";
import { GuardSet } from "../guards/guard_set.ts";
import type { GuardLive } from "../guards/guard_usage.ts";
import { MemFreeGuard } from "../guards/mem_free.ts";
import { type MachineFacts, machineFacts, type PoolOverrides } from "../machine.ts";
import { resolveParallelism } from "../parallelism.ts";
import type { Plan } from "../plan/plan.ts";
import { type Partition, partitionWork } from "../plan/partition.ts";
import { type Selection, selectWork } from "../plan/select.ts";
import { memoryAvailable } from "../probe/memory.ts";
import { type Clock, realClock } from "../runtime/clock.ts";
import type { OutputObserver } from "../runtime/output_observer.ts";
import { peakRssBytes } from "../runtime/process_info.ts";
import { faultSource, onFault } from "../runtime/fault_trap.ts";
import { runtimeVersion } from "../runtime/runtime.ts";
import type { SshConnections } from "../runtime/ssh.ts";
import type { SshSettings } from "../hosts/host.ts";
import { trace, tracing } from "../runtime/trace.ts";
// Static, as most runs keep a journal: a one-task run measured faster so (docs/benchmarks.md).
import { openJournal } from "../journal/open_journal.ts";
import { RunJournal } from "../journal/run_journal.ts";
import { Scheduler, type SchedulerResult } from "../scheduler.ts";
import { maskOutputs, redactorFor } from "../secrets/mod.ts";
import { round } from "../stats.ts";
import { type CoordinatorInfo, type EventSink, type FanoutEvent, type GuardSummary, type ParallelismInfo, type RunSummary, SCHEMA_VERSION } from "../telemetry/events.ts";
import { SummaryFolder } from "../telemetry/summary.ts";
import { commit, VERSION } from "../version.ts";
import { loadPlanArg } from "./plan_arg.ts";


export interface RunOptions extends PoolOverrides {
  parallelism?: number | "auto";
  failFast?: boolean;
  vars?: Record<string, string>;
  /** SIGTERM → SIGKILL for tasks that set no kill_grace. */
  killGraceMs?: number;
  /** --strict: plan warnings are errors. */
  strict?: boolean;
  /** --limit, --only, --start-at: plan only part of the plan. */
  select?: Selection;
  /** --partition K/N: this machine's share of the (selected) plan. */
  partition?: Partition;
  /** Mask the plan's secrets on fanout's stdout and stderr from the moment it is loaded; json: stdout carries JSON. */
  maskOutput?: { json: boolean };
  sinks: EventSink[];
  /** `--output tag`: an observer per ctx.exec call, told the command's output as it is read. */
  observeOutput?: (id: string) => OutputObserver;
  signal?: AbortSignal;
  /** The journal file to record the run in (and resume from); undefined: no journal. */
  journal?: string;
  /** --resume: instances the journal records ok in an earlier run of this plan end `cached` without running. */
  resume?: boolean;
  /** Told when the journal cannot be written (the run goes on). */
  warn?: (message: string) => void;
  clock?: Clock;
  /** --coordinator URL --distribute: the run's instances go to workers (core/distribute/). */
  distribute?: import("../distribute/submit.ts").DistributeOptions;
  /** Given, once the run is set up, a way to read every guard's state at any moment (the live dashboard). */
  watchGuards?: (guardsNow: () => GuardLive[]) => void;
  /** --coordinator: share locks and buckets through this Redis URL (instead of the plan's `coordinator:`). */
  coordinator?: string;
  /** --coordinator-prefix: every key of the shared guards starts with it (default "fanout:"). */
  coordinatorPrefix?: string;
  /** --lease-ttl: how long a shared lock's lease lives without renewal (default 30 s). */
  leaseTtlMs?: number;
  /** `--ssh-config`, `--ssh-accept-new`, `--retries-unreachable`: how ssh hosts are reached. */
  ssh?: SshSettings & { retriesUnreachable?: number };
}

export interface Prepared {
  graph: Graph;
  machine: MachineFacts;
  guards: GuardSet;
  requests: GuardRequests;
  parallelism: ParallelismInfo;
  /** The plan's warnings and guard conflicts: said before anything runs. */
  warnings: string[];
  /** The guard conflicts alone (also in warnings). */
  conflicts: string[];
  /** The make jobserver: only for a real run (`withJobserver`). */
  jobserver?: RunJobserver;
}

/**
 * Everything a run needs before its first instance: shared by run and dry
 * run. `share`, when given, is called on the guard set before any guard is
 * declared (shared guards: core/guards/remote/). The make jobserver is made
 * only for a real run (`withJobserver`).
 */
export function prepare(plan: Plan, options: Omit<RunOptions, "sinks">, withJobserver = false, share?: (guards: GuardSet) => void): Prepared {
  const graph = buildGraph(plan);
  trace("graph_built");
  const machine = machineFacts(plan, options);
  trace("machine_probed");
  const guards = new GuardSet({
    cpu: machine.cpuTokens,
    io: machine.ioPools.map((p) => ({ name: p.name, capacity: p.tokens, sequentialIoWeight: p.sequentialIoWeight })),
    memBudget: machine.memBudget,
  });
  if (machine.memFree !== undefined) {
    guards.memFree = guards.add(new MemFreeGuard(machine.memFree, () => memoryAvailable().bytes, () => guards.idle()));
  }
  const parallelism = resolveParallelism(plan, graph, machine, options.parallelism);
  // Before any request is built: every instance's requests include its slot.
  const jobserver = withJobserver ? runJobserver(plan.tasks, parallelism.effective, () => guards.idle()) : undefined;
  guards.jobserver = jobserver?.guard;
  share?.(guards);
  const requests = new GuardRequests(guards, (task) => machine.ioPoolOf(task).name);
  // Every guard is declared before the first start, so the strictest declaration holds from the start.
  requests.declareAll(graph, plan.vars);
  const conflicts = requests.conflicts();
  const warnings = [...plan.warnings, ...conflicts, ...(jobserver?.warning ? [jobserver.warning] : [])];
  return { graph, machine, guards, requests, parallelism, warnings, conflicts, jobserver };
}

/** Loads the plan and, when asked, masks its secrets in everything printed from now on. */
export async function load(file: string, options: Omit<RunOptions, "sinks">): Promise<Plan> {
  const plan = await loadPlanArg(file, { vars: options.vars, strict: options.strict });
  if (options.maskOutput) maskOutputs(redactorFor(plan), options.maskOutput);
  const selected = options.select ? selectWork(plan, options.select) : plan;
  return options.partition ? partitionWork(selected, options.partition) : selected;
}

export async function runCommand(file: string, options: RunOptions): Promise<number> {
  const plan = await load(file, options);
  trace("plan_loaded");
  return await runPlan(plan, options);
}

export async function runPlan(plan: Plan, options: RunOptions): Promise<number> {
  const clock = options.clock ?? realClock;
  // Connected before anything is declared: a coordinator that does not answer stops the run before it starts.
  const shared = await connectShared(plan, options);
  try {
    return await runPrepared(plan, options, clock, shared);
  } finally {
    await shared?.close();
  }
}

async function runPrepared(plan: Plan, options: RunOptions, clock: Clock, shared: SharedGuards | undefined): Promise<number> {
  const opened = await openSsh(plan, options);
  const ssh = opened?.ssh;
  const install = (g: GuardSet) => {
    opened?.installPools(g);
    shared?.install(g);
  };
  const { graph, machine, guards, requests, parallelism, warnings, jobserver } = prepare(plan, distributedPools(options), true, install);
  if (!jobserver) throw new Error("Internal error: a run was prepared without its jobserver");
  const folder = new SummaryFolder();
  const sinks: EventSink[] = [folder, ...options.sinks];
  const toSinks = (event: FanoutEvent) => {
    for (const sink of sinks) sink.write(event);
  };
  // A distributed run's clock starts before it is published (the dispatcher measures from it); a local run's once its journal is open.
  let startedAt = clock.now();
  // Before the journal is opened: an unreachable coordinator leaves no run recorded.
  const distribution = options.distribute && await (await import("../distribute/submit.ts")).distribute(plan, {
    ...options.distribute, vars: options.vars ?? {}, killGraceMs: options.killGraceMs, forks: parallelism.effective, emit: toSinks,
    pools: { cpuTokens: options.cpuTokens, ioTokens: options.ioTokens, storageType: options.storageType }, startedAt, signal: options.signal,
  });
  let journal: RunJournal | undefined;
  try {
    journal = options.journal === undefined ? undefined : openRunJournal(plan, options.journal, options);
  } catch (error) {
    await distribution?.close("cancelled");
    throw error;
  }
  if (journal) sinks.push(journal);
  if (!distribution) startedAt = clock.now();
  if (tracing()) sinks.push(firstOfEachTrace());
  // In a distributed run the dispatcher passes the scheduler's events on, with the runner of each attempt.
  const emit = distribution ? distribution.emit : toSinks;
  if (distribution) parallelism.in_flight = typeof options.parallelism === "number" ? options.parallelism : DEFAULT_IN_FLIGHT;
  emit({
    type: "run_start",
    schema: SCHEMA_VERSION,
    schema_version: SCHEMA_VERSION,
    version: VERSION,
    commit: commit(),
    runtime: runtimeVersion(),
    plan: plan.name,
    t_ms: 0,
    ts: clock.wallTime().toISOString(),
    parallelism,
    instances: graph.instanceCount,
    hosts: plan.hosts,
    tokens: { cpu: machine.cpuTokens, io: machine.io.tokens },
    io_pools: Object.fromEntries(machine.ioPools.map((p) => [p.name, { tokens: p.tokens, storage_type: p.storageType, reason: p.reason }])),
    warnings,
    ...(plan.selection ? { selection: plan.selection } : {}),
    jobserver: jobserver.info,
    ...(shared ? { coordinator: coordinatorInfo(shared) } : {}),
    ...(plan.partition ? { partition: plan.partition } : {}),
    ...(distribution ? { distributed: { run: distribution.runId, coordinator: options.distribute!.coordinator.display, local: options.distribute!.local } } : {}),
  });
  trace("run_start");
  for (const message of warnings) emit({ type: "log", id: null, level: "warn", message, t_ms: 0 });
  const scheduler = new Scheduler({
    plan,
    ssh,
    graph,
    forks: distribution ? parallelism.in_flight as number : parallelism.effective,
    guards,
    requests,
    failFast: options.failFast ?? false,
    killGraceMs: options.killGraceMs,
    // With no sink but the summary (--quiet without --json) and no --output tag, no one reads the output, data or errors.
    keepOutput: options.sinks.length > 0 || options.observeOutput !== undefined,
    observeOutput: options.observeOutput,
    signal: options.signal,
    emit,
    clock,
    startedAt,
    cachedRun: journal && ((inst) => journal.cachedRun(inst)),
    jobserver: jobserver.forCommand,
    makeCall: distribution?.makeCall,
  });
  options.watchGuards?.(() => scheduler.guardsNow());
  if (shared) {
    shared.report = (level, message) => emit({ type: "log", id: null, level, message, t_ms: round(clock.now() - startedAt) });
    // Running instances finish; nothing new starts; the run fails.
    shared.onLost = (message) => {
      emit({ type: "log", id: null, level: "error", message: `${message}: starting nothing more`, t_ms: round(clock.now() - startedAt) });
      scheduler.stopStarting(message);
    };
  }
  // Ctrl-C: what has finished is on disk before the cancelled instances wind down.
  const flushJournal = () => journal?.flush();
  options.signal?.addEventListener("abort", flushJournal, { once: true });
  // Code of a module that throws where no one can catch it fails that module's running instances, not the run.
  const plugins = new Set(plan.tasks.flatMap((t) => [t, ...(t.race ?? [])]).map((t) => t.module.source).filter((s) => !s.startsWith("builtin:")));
  const stopTrap = onFault((error, kind) => {
    const source = faultSource(error, plugins);
    const text = describeError(error);
    if (source !== undefined && scheduler.failModule(source, `${kind} in the module's code: ${text}`) > 0) return;
    const where = source ?? "code of no known module";
    emit({ type: "log", id: null, level: "warn", message: `${where}: ${kind}: ${text}`, t_ms: round(clock.now() - startedAt) });
  });
  // The masters are closed once every instance has ended (its remote processes gone), however the run ends.
  const result = await scheduler.run().finally(async () => {
    stopTrap();
    options.signal?.removeEventListener("abort", flushJournal);
    jobserver.close();
    await ssh?.close();
    await distribution?.close(options.signal?.aborted ? "cancelled" : "ended");
  });
  const recovered = jobserver.guard?.recovered ?? 0;
  if (recovered > 0) {
    const message = `jobserver: ${recovered} token(s) that commands took and never gave back (killed while holding them?) were made again`;
    emit({ type: "log", id: null, level: "warn", message, t_ms: round(result.endedAt - startedAt) });
  }
  if (result.internalError) emit({ type: "log", id: null, level: "error", message: `internal error: ${result.internalError}`, t_ms: round(result.endedAt - startedAt) });
  const summary = folder.summary({
    makespanMs: result.endedAt - startedAt,
    guards: shared ? withSharedStats(result.guards, shared) : result.guards,
    peakRssBytes: peakRssBytes(),
    interrupted: result.interrupted,
  });
  if (plan.partition) summary.partition = plan.partition;
  emit({ type: "run_end", t_ms: round(result.endedAt - startedAt), summary });
  trace("run_end");
  for (const sink of sinks) await sink.close?.();
  trace("sinks_closed");
  const code = exitCode(result, summary, graph.instanceCount, shared?.lost !== undefined);
  journal?.end(code);
  return code;
}

/**
 * The run's ssh masters, and each ssh host's own CPU and I/O pools, probed
 * once through its master before any guard is declared (a host that cannot
 * be reached keeps the run's pools; its tasks end unreachable). Undefined,
 * and the ssh code not even loaded, for a plan with no ssh host.
 */
async function openSsh(plan: Plan, options: RunOptions): Promise<{ ssh: SshConnections; installPools(guards: GuardSet): void } | undefined> {
  if (!plan.hosts.some((name) => plan.hostInfo?.[name]?.connection === "ssh")) return undefined;
  const [{ sshConnectionsFor }, { installHostPools, probeHostPools }] = await Promise.all([import("../hosts/connections.ts"), import("../ssh/host_guards.ts")]);
  const ssh = sshConnectionsFor(plan, options.ssh)!;
  const connect = async (host: string) => {
    const connected = await ssh.connect(host);
    return "target" in connected ? connected.target : undefined;
  };
  const pools = await probeHostPools(ssh.hosts(), connect, { ioTokens: options.ioTokens, storageType: options.storageType, signal: options.signal });
  return { ssh, installPools: (guards) => installHostPools(guards, pools) };
}

/**
 * A distributed run's CPU and I/O tokens belong to each runner's machine: at
 * the submitter they do not limit what is dispatched. Each runner enforces
 * its own (core/distribute/worker_tokens.ts); --cpu-tokens and --io-tokens
 * size the submitter's own share's.
 */
function distributedPools<T extends RunOptions>(options: T): T {
  if (!options.distribute) return options;
  return { ...options, cpuTokens: DEFAULT_IN_FLIGHT, ioTokens: DEFAULT_IN_FLIGHT };
}

/** The exit code, checked against the events themselves: 0 only if every planned instance ended ok (or cached). */
function exitCode(result: SchedulerResult, summary: RunSummary, planned: number, coordinatorLost: boolean): number {
  if (result.internalError || summary.total !== planned) return EXIT_INTERNAL;
  if (result.interrupted) return EXIT_INTERRUPTED;
  // What ran after the coordinator was lost ran without its shared guards' word: never a success.
  if (coordinatorLost) return EXIT_FAILED;
  return summary.ok + summary.cached === planned ? EXIT_OK : EXIT_FAILED;
}

/** The shared guards of this run, when a coordinator is named (flag first, then the plan); ioredis is loaded only then. */
async function connectShared(plan: Plan, options: RunOptions): Promise<SharedGuards | undefined> {
  const url = options.coordinator ?? plan.coordinator;
  if (url === undefined) return undefined;
  const address = parseCoordinator(url, options.coordinatorPrefix);
  if (typeof address === "string") throw new UsageError(`--coordinator: ${address}`);
  const { SharedGuards } = await import("../guards/remote/shared_guards.ts");
  return await SharedGuards.connect(address, { leaseTtlMs: options.leaseTtlMs, clock: options.clock });
}

function coordinatorInfo(shared: SharedGuards): CoordinatorInfo {
  return { address: shared.address.display, prefix: shared.address.prefix, lease_ttl_ms: shared.ttlMs, guards: Object.keys(shared.stats()) };
}

/** run_end's guard summaries, with what the shared guards add (remote, round trips, leases). */
function withSharedStats(guards: Record<string, GuardSummary>, shared: SharedGuards): Record<string, GuardSummary> {
  const out = { ...guards };
  for (const [name, stats] of Object.entries(shared.stats())) if (out[name]) out[name] = { ...out[name]!, ...stats };
  return out;
}

function openRunJournal(plan: Plan, path: string, options: RunOptions): RunJournal {
  const redactor = redactorFor(plan);
  const opened = openJournal(path);
  if (opened.movedAside) options.warn?.(`the journal ${opened.path} was damaged (a crash of the machine?): moved to ${opened.movedAside}; a new one is started, and --resume finds nothing earlier`);
  return new RunJournal(opened, { plan, resume: options.resume ?? false, clock: options.clock, onError: options.warn,
    redact: (text) => redactor.text(text), redactJson: (json) => redactor.json(json) });
}

/** FANOUT_TRACE: marks the first task_start and the first task_end. */
function firstOfEachTrace(): EventSink {
  const seen = new Set<string>();
  return {
    write(event) {
      if ((event.type === "task_start" || event.type === "task_end") && !seen.has(event.type)) {
        seen.add(event.type);
        trace(`first_${event.type}`);
      }
    },
  };
}
