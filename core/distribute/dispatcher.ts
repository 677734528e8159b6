/**
 * The submitter's side of a distributed run. Its scheduler is the one a
 * local run uses — dependencies, hints, retries, fail-fast, the summary —
 * except that an attempt's call is a RemoteCall: the attempt is put on the
 * run's queue (only once the scheduler has found it ready, so its needs
 * have ended ok) and its outcome is the one a runner reports.
 *
 * Events: the scheduler says task_start when it dispatches; the dispatcher
 * holds that event until a runner claims the attempt, then sends it with
 * the runner's name (`runner`), as it adds `runner` to the attempt's
 * task_retry or task_end and to the log events its module wrote. An attempt
 * cancelled before anyone claimed it has no task_start (it never started).
 */
import type { Redis } from "ioredis";
import type { CallMaker } from "../attempt.ts";
import type { Instance } from "../graph.ts";
import type { Call } from "../race.ts";
import { failed, type Outcome, SETTLE_MARGIN_MS } from "../run_task.ts";
import { type Clock, realClock } from "../runtime/clock.ts";
import { DEFAULT_KILL_GRACE_MS } from "../runtime/spawn.ts";
import { round } from "../stats.ts";
import type { FanoutEvent, TaskStartEvent } from "../telemetry/events.ts";
import type { Dispatch, Report, RunKeys, RunSpec } from "./protocol.ts";

const BLOCK_MS = 1000;

export interface DispatcherOptions {
  redis: Redis;
  /** For the blocking read of the reports only. */
  blocking: Redis;
  keys: RunKeys;
  spec: RunSpec;
  /** The coordinator as messages show it (password masked). */
  address: string;
  /** The run's own emit: events go on from here, with `runner`. */
  emit: (event: FanoutEvent) => void;
  clock?: Clock;
  startedAt: number;
}

export class Dispatcher {
  private readonly calls = new Map<string, RemoteCall>();
  /** task_start events the scheduler sent, by instance id, until the attempt is claimed. */
  private readonly held = new Map<string, TaskStartEvent>();
  /** The runner that ended each instance's latest attempt, until its task_retry or task_end is sent. */
  private readonly endedBy = new Map<string, string | null>();
  private next = 0;
  private reading = true;
  private lastId = "0-0";
  readonly clock: Clock;
  readonly spec: RunSpec;
  /** Set when reading the reports failed: the run cannot learn its outcomes. */
  failure?: Error;
  private readonly loop: Promise<void>;

  constructor(private readonly o: DispatcherOptions) {
    this.clock = o.clock ?? realClock;
    this.spec = o.spec;
    this.loop = this.readReports();
  }

  readonly makeCall: CallMaker = (inst, attempt) => new RemoteCall(this, inst, attempt, `${this.o.spec.id}:${this.next++}`);

  /** The scheduler's events pass through here. */
  readonly emit = (event: FanoutEvent): void => {
    if (event.type === "task_start") return void this.held.set(event.id, event);
    if (event.type === "task_end" || event.type === "task_retry") {
      const runner = this.endedBy.get(event.id);
      this.endedBy.delete(event.id);
      return this.o.emit({ ...event, runner: runner ?? null });
    }
    this.o.emit(event);
  };

  publish(call: RemoteCall, dispatch: Dispatch): void {
    this.calls.set(dispatch.token, call);
    this.o.redis.xadd(this.o.keys.queue, "*", "d", JSON.stringify(dispatch)).catch((e: Error) => this.fail(e));
  }

  abort(token: string): void {
    this.o.redis.sadd(this.o.keys.aborts, token).catch(() => {});
  }

  claimed(call: RemoteCall, runner: string): void {
    const start = this.held.get(call.inst.id);
    if (!start) return;
    this.held.delete(call.inst.id);
    this.o.emit({ ...start, t_ms: round(this.clock.now() - this.o.startedAt), runner });
  }

  ended(call: RemoteCall, runner: string | null, logs: Extract<Report, { kind: "end" }>["logs"]): void {
    this.calls.delete(call.token);
    this.held.delete(call.inst.id);
    this.endedBy.set(call.inst.id, runner);
    const t_ms = round(this.clock.now() - this.o.startedAt);
    for (const l of logs) this.o.emit({ type: "log", id: call.inst.id, level: l.level, message: l.message, t_ms, runner });
  }

  /** Stops reading; what is still out ends cancelled. */
  async close(): Promise<void> {
    this.reading = false;
    await this.loop;
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.o.emit({ type: "log", id: null, level: "error", message: `lost the coordinator ${this.o.address}: ${error.message}: the instances it holds end cancelled`, t_ms: round(this.clock.now() - this.o.startedAt) });
    for (const call of [...this.calls.values()]) call.settle(failed(`lost the coordinator: ${error.message}`, "cancelled"), null, []);
  }

  private async readReports(): Promise<void> {
    while (this.reading) {
      let read: [string, [string, string[]][]][] | null;
      try {
        read = await this.o.blocking.xread("COUNT", 1000, "BLOCK", BLOCK_MS, "STREAMS", this.o.keys.reports, this.lastId) as typeof read;
      } catch (error) {
        if (this.reading) this.fail(error as Error);
        return;
      }
      for (const [id, fields] of read?.[0]?.[1] ?? []) {
        this.lastId = id;
        const report = JSON.parse(fields[1]!) as Report;
        if (report.kind === "refused") {
          this.o.emit({ type: "log", id: null, level: "warn", message: `runner ${report.runner} cannot serve this run: ${report.error}`, t_ms: round(this.clock.now() - this.o.startedAt) });
          continue;
        }
        const call = this.calls.get(report.token);
        if (!call) continue; // ended already: a re-run's report, or one for an abandoned attempt
        if (report.kind === "claim") call.claim(report.runner);
        else call.settle(report.outcome, report.runner, report.logs);
      }
    }
  }
}

/** An attempt run by whichever runner claims it. */
export class RemoteCall implements Call {
  readonly outcome: Promise<Outcome>;
  private resolve!: (o: Outcome) => void;
  private runner?: string;
  private done = false;
  private timer: unknown;

  constructor(private readonly d: Dispatcher, readonly inst: Instance, attempt: number, readonly token: string) {
    this.outcome = new Promise((resolve) => (this.resolve = resolve));
    d.publish(this, { token, id: inst.id, task: inst.task.name, host: inst.host, item: inst.item, attempt });
  }

  claim(runner: string): void {
    if (this.runner !== undefined || this.done) return;
    this.runner = runner;
    this.d.claimed(this, runner);
  }

  settle(outcome: Outcome, runner: string | null, logs: Extract<Report, { kind: "end" }>["logs"]): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== undefined) this.d.clock.clearTimer(this.timer);
    if (runner !== null) this.claim(runner);
    this.d.ended(this, runner ?? this.runner ?? null, logs);
    this.resolve(outcome);
  }

  /**
   * Not claimed yet: it ends cancelled now (a runner that reads it later
   * sees the abort and does not run it). Claimed: its runner stops it and
   * reports; a runner that does not (killed, cut off) is given up on after
   * the kill grace and a lease.
   */
  abort(reason: Error): void {
    if (this.done) return;
    this.d.abort(this.token);
    const cancelled = failed(reason.message, "cancelled");
    if (this.runner === undefined) return this.settle(cancelled, null, []);
    const { killGraceMs = DEFAULT_KILL_GRACE_MS, leaseMs } = this.d.spec;
    const ms = killGraceMs + SETTLE_MARGIN_MS + leaseMs;
    this.timer ??= this.d.clock.setTimer(() => this.settle({ ...cancelled, error: `${reason.message}; no word from ${this.runner} within ${ms}ms` }, null, []), ms);
  }
}
