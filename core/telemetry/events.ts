/**
 * The NDJSON event schema: a public contract. Fields are added, never renamed
 * or removed. docs/telemetry.md describes every field.
 *
 * Every output (NDJSON, human progress, the summary) is a consumer of these
 * events; EventFormatters below is a mapped type, so adding a kind fails to
 * compile until every formatter handles it.
 */

export const SCHEMA_VERSION = 1;

/**
 * `cached`: not run, because a journal records it ok in an earlier run (`--resume`).
 * `unreachable`: its ssh host could not be reached (or was lost), so the module did not run (or was cut off).
 */
export type Status = "ok" | "failed" | "timed_out" | "cancelled" | "skipped" | "cached" | "unreachable";

/** run_start.selection: what --limit, --only and --start-at asked for (null: not given), and what it came to. */
export interface SelectionInfo {
  limit: string[] | null;
  only: string[] | null;
  start_at: string | null;
  /** The tasks planned, in plan order. */
  tasks: string[];
  /** The hosts planned. */
  hosts: string[];
}

/** run_start.partition and summary.partition: which share of the plan `--partition K/N` ran. */
export interface PartitionInfo {
  mode: "slice" | "hash";
  k: number;
  n: number;
  /** What was shared out: hosts (a plan of several), or instances (a plan of one host). */
  by: "host" | "item";
  /** Instances in this partition. */
  instances: number;
  /** Instances in the whole plan. */
  of_instances: number;
}

export interface ParallelismInfo {
  mode: "auto" | "manual";
  effective: number;
  [extra: string]: unknown;
}

/** run_start.jobserver: the GNU make jobserver of the run (docs/jobserver.md). */
export interface JobserverInfo {
  /** The run's commands are given a jobserver in MAKEFLAGS (a task has `jobserver:` on, the default). */
  served: boolean;
  /** fanout takes its fork slots from the jobserver it was started under (MAKEFLAGS). */
  used: boolean;
  /** The jobserver's slots: the fork limit when fanout serves its own; the parent's -jN when used (null: it did not say). */
  slots: number | null;
}

export interface RunStartEvent {
  type: "run_start";
  schema: number;
  /** The same number as `schema`, under the name `fanout probe --json` uses too. */
  schema_version: number;
  version: string;
  /** The commit fanout was built from (full hash), or "unknown". */
  commit: string;
  runtime: string;
  plan: string;
  t_ms: number;
  ts: string;
  parallelism: ParallelismInfo;
  instances: number;
  hosts: string[];
  tokens: { cpu: number; io: number };
  /** Every I/O pool: "io" for the plan directory's device, "io:<device>" for others tasks read from. */
  io_pools: Record<string, { tokens: number; storage_type: string; reason: string }>;
  /** Said before anything runs: globs that matched nothing, guards declared with different limits or rates. */
  warnings: string[];
  /** Only with --limit, --only or --start-at: what was asked and the tasks and hosts planned (nothing else has events). */
  selection?: SelectionInfo;
  /** Always written by `fanout run`; optional here only so that older streams still type-check. */
  jobserver?: JobserverInfo;
  /** Only with a coordinator (--coordinator): where the shared guards live. */
  coordinator?: CoordinatorInfo;
  /** Only with --partition: which share of the plan this run is. */
  partition?: PartitionInfo;
  /** Only with --distribute: the run's id in the coordinator, the coordinator (password masked), and whether the submitter runs instances too. */
  distributed?: { run: string; coordinator: string; local: boolean };
}

/** run_start.coordinator: the Redis holding the shared locks and buckets. */
export interface CoordinatorInfo {
  /** The URL, its password shown as ***. */
  address: string;
  /** Every key starts with it (--coordinator-prefix). */
  prefix: string;
  lease_ttl_ms: number;
  /** The guards kept there, by name (locks and buckets declared by the plan). */
  guards: string[];
}

interface InstanceFields {
  id: string;
  task: string;
  host: string;
  item: unknown;
  attempt: number;
  t_ms: number;
  /** Only in a distributed run (--distribute): the runner (worker or submitter) that ran the attempt; null when none did (cancelled before any claimed it). */
  runner?: string | null;
}

export interface TaskStartEvent extends InstanceFields {
  type: "task_start";
  /** Milliseconds from ready (dependencies done, or backoff over) to start. */
  wait_ms: number;
  /** The guards held while the module runs, in acquisition order. */
  guards: string[];
}

export interface TaskEndEvent extends InstanceFields {
  type: "task_end";
  status: Status;
  changed: boolean;
  duration_ms: number;
  error: string | null;
  data: Record<string, unknown>;
  /** Bytes the module reported processing (file modules); 0 otherwise. */
  bytes: number;
  /** Present (true) when the module did not return after it was cancelled: its guards were never released. */
  stuck?: true;
  /** Present when the task is a `race:` and an alternative succeeded: which one (its index in race:, its module). */
  winner?: { index: number; module: string };
  /** With status `cached`: the journal's id of the run in which this instance ended ok. */
  cached_from?: number;
}

export interface TaskRetryEvent extends InstanceFields {
  type: "task_retry";
  /** Status of the attempt that failed. */
  status: Status;
  error: string | null;
  /** Backoff before the next attempt; no guard is held meanwhile. */
  delay_ms: number;
}

export interface LogEvent {
  type: "log";
  id: string | null;
  level: "debug" | "info" | "warn" | "error";
  message: string;
  t_ms: number;
  /** Only for a module's log in a distributed run: the runner it ran on. */
  runner?: string | null;
}

export interface GuardSummary {
  kind: string;
  capacity: number;
  acquisitions: number;
  wait_ms: Percentiles;
  max_queue: number;
  busy_fraction: number;
  /** Present (true) when the guard is shared through the coordinator. */
  remote?: true;
  /** Shared guards: coordinator round trips per grant (a bucket's grant may hold several tokens). */
  round_trips?: Percentiles;
  /** Shared locks: lease renewals that found the lease still held. */
  lease_renewals?: number;
  /** Shared locks: leases found gone when renewed (expired, or the coordinator restarted). */
  leases_lost?: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RunSummary {
  total: number;
  ok: number;
  failed: number;
  timed_out: number;
  skipped: number;
  cancelled: number;
  /** Instances not run because the journal records them ok in an earlier run (`--resume`). */
  cached: number;
  /** Instances whose module call never returned after a cancel (also counted as cancelled). */
  stuck: number;
  /** Instances whose ssh host could not be reached (status `unreachable`). */
  unreachable: number;
  /** The ssh hosts that could not be reached, in the order found. */
  unreachable_hosts: string[];
  changed: number;
  retries: number;
  makespan_ms: number;
  instances_per_s: number;
  wait_ms: Percentiles;
  bytes: number;
  bytes_per_s: number;
  peak_rss_bytes: number;
  guards: Record<string, GuardSummary>;
  interrupted: boolean;
  /** run_start's warnings, repeated: what was worth saying before the run. */
  warnings: string[];
  /** Only with --partition: run_start's partition, repeated. */
  partition?: PartitionInfo;
}

export interface RunEndEvent {
  type: "run_end";
  t_ms: number;
  summary: RunSummary;
}

export type FanoutEvent = RunStartEvent | TaskStartEvent | TaskEndEvent | TaskRetryEvent | LogEvent | RunEndEvent;
export type EventType = FanoutEvent["type"];
export type EventOf<K extends EventType> = Extract<FanoutEvent, { type: K }>;

/**
 * Not a run event: with --json, fanout writes one per problem on stdout when
 * it stops on an error instead of running a plan to its end (an invalid
 * plan, plugin or command line; a bug in fanout). Positions are null when
 * the problem has none.
 */
export interface ErrorEvent {
  type: "error";
  /** `coordinator`: the coordinator (--coordinator) did not answer at start. */
  kind: "plan" | "plugin" | "usage" | "internal" | "coordinator";
  exit_code: number;
  file: string | null;
  line: number | null;
  col: number | null;
  /** Where in the plan (`tasks[1].module`), for plan errors. */
  path: string | null;
  /** The same text as the `error:` line on stderr. */
  message: string;
}

/** One handler per event kind; a missing kind is a compile error. */
export type EventFormatters<R> = { [K in EventType]: (event: EventOf<K>) => R };

/** Where events go. Sinks must not throw: a broken pipe must not stop a run. */
export interface EventSink {
  write(event: FanoutEvent): void;
  /** Flushes buffered output; called once, after run_end. */
  close?(): Promise<void> | void;
}
