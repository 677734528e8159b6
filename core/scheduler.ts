/**
 * The scheduler loop, shaped like ninja's: start as much as capacity allows,
 * wait for the next event (a completion, a refill, a backoff ending, an
 * abort), release, look again.
 *
 * Invariants:
 * - Guard acquisition never waits. An instance takes all of its guards at once
 *   or none; a refused instance is parked on the guard that refused it and
 *   holds nothing, not even a fork slot. So no slot idles behind a host lock,
 *   and instances behind it do not wait (no head-of-line blocking).
 * - Ready instances start in plan order (lowest sequence number first).
 * - A parked instance is woken when its guard has room again: after a
 *   release, or at the guard's readyAt (a bucket refill) via one timer.
 * - Every permit taken is given back when the attempt ends, on every path; a
 *   retry's backoff holds nothing.
 */
import type { Graph, Group, Instance } from "./graph.ts";
import type { Guard, GuardRequest } from "./guards/guard.ts";
import { GuardRequests } from "./guards/requests.ts";
import { type GuardSet, releaseAll, tryAcquireAll } from "./guards/guard_set.ts";
import { GuardUsage } from "./guards/guard_usage.ts";
import { Semaphore } from "./guards/semaphore.ts";
import { Heap } from "./heap.ts";
import { GroupProgress, type Released } from "./progress.ts";
import type { Plan } from "./plan/plan.ts";
import type { TemplateError } from "./plan/template.ts";
import { type Clock, realClock } from "./runtime/clock.ts";
import { type AttemptEnv, failed, type Outcome, runAttempt, StopReason } from "./run_task.ts";
import { round } from "./stats.ts";
import type { FanoutEvent, GuardSummary, Status } from "./telemetry/events.ts";

export interface SchedulerOptions {
  plan: Plan;
  graph: Graph;
  /** The fork limit: instances running at once. */
  forks: number;
  guards: GuardSet;
  /** Turns instances into guard requests; defaults to one that puts all I/O on the "io" pool. */
  requests?: GuardRequests;
  failFast: boolean;
  /** Aborting it (Ctrl-C) cancels the run. */
  signal?: AbortSignal;
  emit(event: FanoutEvent): void;
  clock?: Clock;
  /** t_ms is measured from here; defaults to the moment run() is called. */
  startedAt?: number;
  /** Backoff jitter source, in [0, 1). */
  random?: () => number;
}

export interface SchedulerResult {
  interrupted: boolean;
  startedAt: number;
  endedAt: number;
  guards: Record<string, GuardSummary>;
}

/** One attempt of one instance, from ready to end. */
interface Attempt {
  inst: Instance;
  n: number;
  requests: GuardRequest[];
  /** When it became ready (dependencies done or backoff over): wait_ms starts here. */
  readySince: number;
  /** When it last entered the ready queue or a guard's queue. */
  queuedAt: number;
  /** Milliseconds spent in the ready queue, waiting for a fork slot. */
  forkWaitMs?: number;
  /** Milliseconds spent parked on each guard, indexed like `requests`. */
  parkedMs?: number[];
  /** The guard that woke it, until it has had its try, and how much of it this attempt needs. */
  wokenFrom?: Guard;
  wokenAmount?: number;
  controller?: AbortController;
  /** Set when rendering the hint key failed: the attempt fails without running. */
  setupError?: string;
}

/**
 * The not-yet-taken instances of a released group. Attempts are made as
 * instances are taken from the ready queue, not when their group is
 * released: a group of 100,000 items costs one queue entry, not 100,000.
 */
interface GroupCursor {
  group: Group;
  next: number;
  /** When the group was released: its instances have been ready since. */
  since: number;
}

type Ready = Attempt | GroupCursor;

const seqOf = (r: Ready) => ("inst" in r ? r.inst.seq : r.group.instances[r.next]!.seq);

const MAX_BACKOFF_MS = 60_000;
/** How long a finished run waits for aborted modules to clean up (as long as a process group's SIGTERM grace). */
const CLEANUP_GRACE_MS = 2000;

/** How much of `guard` an attempt needs (it is parked on a guard it requested). */
function amountOf(a: Attempt, guard: Guard): number {
  for (const r of a.requests) if (r.guard === guard) return r.amount;
  return 1;
}
const bySeq = (a: Attempt, b: Attempt) => a.inst.seq < b.inst.seq;
const readyOrder = (a: Ready, b: Ready) => seqOf(a) < seqOf(b);

export class Scheduler {
  private readonly clock: Clock;
  private readonly startedAt: number;
  private readonly ready = new Heap<Ready>(readyOrder);
  /** Instances waiting in the ready queue (a cursor counts for all it has left). */
  private readyCount = 0;
  private readonly parked = new Map<Guard, Heap<Attempt>>();
  /** Amounts woken instances will take that they have not tried for yet, per guard: room already spoken for. */
  private readonly pendingWakes = new Map<Guard, number>();
  /** Guards with waiters whose room grows back with time (buckets, memory): the timer watches these. */
  private readonly timed = new Set<Guard>();
  /** Guards whose room may have grown since the last look. */
  private readonly touched = new Set<Guard>();
  /** Retries waiting out their backoff, by due time. */
  private readonly backoff = new Heap<{ due: number; attempt: Attempt }>((a, b) => a.due < b.due);
  private readonly running = new Set<Attempt>();
  /** Module calls that have not settled, including those of attempts already ended by an abort. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly usage = new Map<Guard, GuardUsage>();
  private readonly forkUsage: GuardUsage;
  private readonly requests: GuardRequests;
  private readonly progress: GroupProgress;
  private readonly env: AttemptEnv;
  private readonly done: Uint8Array;
  private finished = 0;
  private stopping = false;
  private interrupted = false;
  private timer: unknown;
  private timerAt = Infinity;
  private resolveRun?: () => void;
  /** A broken invariant in our own code ends the run loudly (cli.ts: exit 70), never silently. */
  private failRun?: (error: unknown) => void;

  constructor(private readonly o: SchedulerOptions) {
    if (!(o.forks >= 1)) throw new RangeError(`Scheduler: forks must be >= 1, got ${o.forks}`);
    this.clock = o.clock ?? realClock;
    this.startedAt = o.startedAt ?? this.clock.now();
    this.requests = o.requests ?? new GuardRequests(o.guards);
    o.guards.attach({
      wake: (guard) =>
        this.guarded(() => {
          this.touched.add(guard);
          this.pump();
        }),
      idle: () => this.running.size === 0,
    });
    this.forkUsage = new GuardUsage(new Semaphore("forks", "forks", o.forks), this.startedAt);
    // The same for every attempt: built once, not per instance.
    this.env = {
      clock: this.clock,
      planDir: o.plan.dir,
      vars: o.plan.vars,
      log: (level, id, message) => o.emit({ type: "log", id, level, message, t_ms: this.t() }),
      track: (work) => {
        this.inFlight.add(work);
        const forget = () => this.inFlight.delete(work);
        work.then(forget, forget);
      },
    };
    this.progress = new GroupProgress(o.graph);
    this.done = new Uint8Array(o.graph.instanceCount);
  }

  /** Runs every instance to an end state. Never rejects because a task failed. */
  run(): Promise<SchedulerResult> {
    const { signal } = this.o;
    const finishedAll = new Promise<void>((resolve, reject) => {
      this.resolveRun = resolve;
      this.failRun = reject;
    });
    const onAbort = () => this.stop("interrupted", true);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.release(this.progress.start(), this.clock.now());
    if (signal?.aborted) this.stop("interrupted", true);
    this.pump();
    this.checkFinished();
    return finishedAll.then(async () => {
      signal?.removeEventListener("abort", onAbort);
      if (this.timer !== undefined) this.clock.clearTimer(this.timer);
      const endedAt = this.clock.now();
      await this.settleAborted();
      return { interrupted: this.interrupted, startedAt: this.startedAt, endedAt, guards: this.guardSummaries(endedAt) };
    });
  }

  /**
   * An aborted instance ends at once, but its module may still be cleaning up
   * (removing a temp file, say). Give those modules a grace period to finish,
   * so a cancelled run leaves nothing half-written; a module that ignores its
   * signal cannot hold the run past it.
   */
  private async settleAborted(): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: unknown;
    const grace = new Promise<void>((resolve) => (timer = this.clock.setTimer(resolve, CLEANUP_GRACE_MS)));
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    this.clock.clearTimer(timer);
  }

  private t(now = this.clock.now()): number {
    return round(now - this.startedAt);
  }

  // ---- the loop -----------------------------------------------------------

  private pump(): void {
    const now = this.clock.now();
    this.wakeTouched(now);
    while (!this.stopping && this.running.size < this.o.forks && this.ready.size > 0) {
      const a = this.takeReady();
      a.forkWaitMs = (a.forkWaitMs ?? 0) + (now - a.queuedAt);
      if (a.wokenFrom) {
        this.pendingWakes.set(a.wokenFrom, this.pendingWakes.get(a.wokenFrom)! - a.wokenAmount!);
        // Had it been refused elsewhere, the room it was woken for is still there.
        this.touched.add(a.wokenFrom);
        a.wokenFrom = undefined;
      }
      if (a.setupError !== undefined) {
        this.finish(a.inst, a.n, failed(a.setupError), now, 0);
        continue;
      }
      const refused = tryAcquireAll(a.requests, now);
      if (refused) this.park(a, refused, now);
      else this.start(a, now);
      if (this.touched.size > 0) this.wakeTouched(now);
    }
    this.forkUsage.queued(this.readyCount);
    this.armTimer(now);
  }

  private pushReady(a: Attempt): void {
    this.ready.push(a);
    this.readyCount++;
  }

  /** The next ready instance in plan order, as an attempt. */
  private takeReady(): Attempt {
    const r = this.ready.pop()!;
    this.readyCount--;
    if ("inst" in r) return r;
    const inst = r.group.instances[r.next++]!;
    if (r.next < r.group.instances.length) this.ready.push(r);
    return this.newAttempt(inst, 1, r.since);
  }

  private park(a: Attempt, guard: Guard, now: number): void {
    let queue = this.parked.get(guard);
    if (!queue) this.parked.set(guard, (queue = new Heap<Attempt>(bySeq)));
    a.queuedAt = now;
    queue.push(a);
    this.usageOf(guard).queued(queue.size);
    // Room in a bucket or a memory guard comes back with time; in the others only with a release.
    if (guard.readyAt(amountOf(a, guard), now) < Infinity) this.timed.add(guard);
  }

  /**
   * Moves parked instances back to ready, in order, while each touched guard
   * has room for the next one's need. Room promised to woken instances that
   * have not tried yet is not given twice.
   */
  private wakeTouched(now: number): void {
    for (const guard of this.touched) {
      this.touched.delete(guard);
      const queue = this.parked.get(guard);
      if (!queue || queue.size === 0) continue;
      let room = guard.available(now) - (this.pendingWakes.get(guard) ?? 0);
      while (queue.size > 0) {
        const amount = amountOf(queue.peek()!, guard);
        if (room < amount) break;
        const a = queue.pop()!;
        const parkedMs = a.parkedMs ?? (a.parkedMs = a.requests.map(() => 0));
        const i = a.requests.findIndex((r) => r.guard === guard);
        parkedMs[i] = parkedMs[i]! + (now - a.queuedAt);
        a.wokenFrom = guard;
        a.wokenAmount = amount;
        a.queuedAt = now;
        this.pendingWakes.set(guard, (this.pendingWakes.get(guard) ?? 0) + amount);
        this.pushReady(a);
        room -= amount;
      }
    }
  }

  /** One timer, at the earliest of: a backoff ending, a time-based guard with waiters refilling. */
  private armTimer(now: number): void {
    let at = this.backoff.peek()?.due ?? Infinity;
    for (const guard of this.timed) {
      const queue = this.parked.get(guard)!;
      if (queue.size === 0) {
        this.timed.delete(guard);
        continue;
      }
      const amount = amountOf(queue.peek()!, guard);
      const when = guard.readyAt(amount, now);
      if (when > now) {
        if (when < at) at = when;
      } else if (guard.available(now) - (this.pendingWakes.get(guard) ?? 0) >= amount) {
        // Room appeared without a release (a refill between two looks): wake on the next turn.
        this.touched.add(guard);
        at = now;
      }
      // Otherwise instances already woken from this guard will use the room, and re-touch it.
    }
    if (at === this.timerAt) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity || this.stopping) return;
    this.timer = this.clock.setTimer(() => this.guarded(() => this.onTimer()), at - now);
  }

  /** Runs a callback of the loop; an exception there is our bug, and fails the run rather than vanishing. */
  private guarded(step: () => void): void {
    try {
      step();
    } catch (error) {
      for (const a of this.running) a.controller!.abort(new StopReason("internal error"));
      this.failRun?.(error);
    }
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    while (this.backoff.size > 0 && this.backoff.peek()!.due <= now) {
      const { attempt } = this.backoff.pop()!;
      attempt.readySince = attempt.queuedAt = now;
      this.pushReady(attempt);
    }
    for (const guard of this.timed) {
      const queue = this.parked.get(guard)!;
      if (queue.size > 0 && guard.readyAt(amountOf(queue.peek()!, guard), now) <= now) this.touched.add(guard);
    }
    this.pump();
  }

  // ---- one attempt ----------------------------------------------------------

  private newAttempt(inst: Instance, n: number, now: number): Attempt {
    const a: Attempt = { inst, n, requests: [], readySince: now, queuedAt: now };
    try {
      a.requests = this.requests.for(inst.task, { host: inst.host, item: inst.item, vars: this.o.plan.vars, task: inst.task.name });
    } catch (e) {
      a.setupError = `cannot render the hint key: ${(e as TemplateError).message}`;
    }
    return a;
  }

  private start(a: Attempt, now: number): void {
    const { inst } = a;
    this.forkUsage.acquired(1, a.forkWaitMs ?? 0, now);
    a.requests.forEach((r, i) => this.usageOf(r.guard).acquired(r.amount, a.parkedMs?.[i] ?? 0, now));
    a.controller = new AbortController();
    this.running.add(a);
    this.o.emit({
      type: "task_start",
      id: inst.id,
      task: inst.task.name,
      host: inst.host,
      item: inst.item,
      attempt: a.n,
      t_ms: this.t(now),
      wait_ms: round(now - a.readySince),
      guards: a.requests.map((r) => r.guard.name),
    });
    runAttempt(inst, a.n, a.controller, this.env).then((outcome) => this.guarded(() => this.onAttemptEnd(a, outcome, now)));
  }

  private onAttemptEnd(a: Attempt, outcome: Outcome, startedAt: number): void {
    const now = this.clock.now();
    this.running.delete(a);
    releaseAll(a.requests, now);
    this.forkUsage.released(1, now);
    for (const r of a.requests) {
      this.usageOf(r.guard).released(r.amount, now);
      this.touched.add(r.guard);
    }
    const retry = outcome.status !== "ok" && outcome.status !== "cancelled" && a.n <= a.inst.task.retries && !this.stopping;
    if (retry) {
      const delay = this.backoffDelay(a);
      this.o.emit({
        type: "task_retry",
        id: a.inst.id,
        task: a.inst.task.name,
        host: a.inst.host,
        item: a.inst.item,
        attempt: a.n,
        t_ms: this.t(now),
        status: outcome.status,
        error: outcome.error,
        delay_ms: round(delay),
      });
      const next = this.newAttempt(a.inst, a.n + 1, now);
      this.backoff.push({ due: now + delay, attempt: next });
    } else {
      this.finish(a.inst, a.n, outcome, now, now - startedAt);
    }
    this.pump();
    this.checkFinished();
  }

  /** Exponential from retry_delay, with jitter in [0.5, 1.5) so retries of many instances spread out. */
  private backoffDelay(a: Attempt): number {
    const base = a.inst.task.retryDelayMs * 2 ** (a.n - 1);
    const jitter = 0.5 + (this.o.random ?? Math.random)();
    return Math.min(MAX_BACKOFF_MS, base * jitter);
  }

  // ---- instance and group ends ----------------------------------------------

  /** An attempt's outcome is final: report it, and start or skip what waited for it. */
  private finish(inst: Instance, attempt: number, outcome: Outcome, now: number, durationMs: number): void {
    if (this.done[inst.seq]) throw new Error(`Internal error: ${inst.id} finished twice`);
    this.emitEnd(inst, attempt, outcome, now, durationMs);
    this.release(this.progress.ended(inst, outcome.status === "ok"), now);
    if (this.o.failFast && (outcome.status === "failed" || outcome.status === "timed_out") && !this.stopping) {
      this.stop(`fail-fast: ${inst.id} ${outcome.status === "timed_out" ? "timed out" : "failed"}`, false);
    }
  }

  /** Queues the instances of ready groups; ends those of skipped ones (or of any, once stopping). */
  private release({ ready, skipped }: Released, now: number): void {
    for (const { group, blockedBy } of skipped) {
      for (const inst of group.instances) this.endUnstarted(inst, 1, "skipped", `skipped: ${blockedBy} did not succeed`, now);
    }
    for (const group of ready) {
      if (this.stopping) {
        for (const inst of group.instances) this.endUnstarted(inst, 1, "cancelled", "cancelled before it started", now);
      } else {
        this.ready.push({ group, next: 0, since: now });
        this.readyCount += group.instances.length;
      }
    }
  }

  private endUnstarted(inst: Instance, attempt: number, status: Status, error: string, now: number): void {
    if (!this.done[inst.seq]) this.emitEnd(inst, attempt, failed(error, status), now, 0);
  }

  /** The one place task_end is written: every instance gets exactly one. */
  private emitEnd(inst: Instance, attempt: number, outcome: Outcome, now: number, durationMs: number): void {
    this.done[inst.seq] = 1;
    this.finished++;
    this.o.emit({
      type: "task_end",
      id: inst.id,
      task: inst.task.name,
      host: inst.host,
      item: inst.item,
      attempt,
      status: outcome.status,
      changed: outcome.changed,
      t_ms: this.t(now),
      duration_ms: round(durationMs),
      error: outcome.error,
      data: outcome.data,
      bytes: outcome.bytes,
    });
  }

  /**
   * Fail-fast or Ctrl-C: start nothing more, abort what runs (their permits
   * come back as each attempt ends), and end everything not started as
   * cancelled.
   */
  private stop(reason: string, interrupted: boolean): void {
    if (this.stopping) return;
    this.stopping = true;
    this.interrupted = interrupted;
    for (const a of this.running) a.controller!.abort(new StopReason(reason));
    const now = this.clock.now();
    const error = `cancelled: ${reason}`;
    // Cursors need nothing here: the loop over every group below ends their instances.
    const waiting: Attempt[] = this.ready.drain().filter((r): r is Attempt => "inst" in r);
    this.readyCount = 0;
    waiting.push(...this.backoff.drain().map((b) => b.attempt));
    for (const queue of this.parked.values()) waiting.push(...queue.drain());
    for (const a of waiting) this.endUnstarted(a.inst, a.n, "cancelled", error, now);
    const runningSeqs = new Set([...this.running].map((a) => a.inst.seq));
    for (const g of this.o.graph.groups) {
      for (const inst of g.instances) if (!runningSeqs.has(inst.seq)) this.endUnstarted(inst, 1, "cancelled", error, now);
    }
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.checkFinished();
  }

  private checkFinished(): void {
    if (this.finished === this.o.graph.instanceCount && this.running.size === 0) this.resolveRun?.();
  }

  // ---- telemetry --------------------------------------------------------------

  private usageOf(guard: Guard): GuardUsage {
    let u = this.usage.get(guard);
    if (!u) this.usage.set(guard, (u = new GuardUsage(guard, this.startedAt)));
    return u;
  }

  private guardSummaries(endedAt: number): Record<string, GuardSummary> {
    const out: Record<string, GuardSummary> = { forks: this.forkUsage.summary(this.startedAt, endedAt) };
    for (const guard of this.o.guards.all()) out[guard.name] = this.usageOf(guard).summary(this.startedAt, endedAt);
    return out;
  }
}
