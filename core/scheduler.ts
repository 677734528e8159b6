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
 *   release, or at the guard's readyAt (a bucket refill) via one timer
 *   (core/guard_queues.ts).
 * - Every permit taken is given back when the attempt ends — once its module
 *   has returned and its processes are gone (core/attempt.ts) — on every
 *   path but one: a stuck call keeps its permits for good. A retry's backoff
 *   holds nothing.
 * - Every planned instance gets exactly one task_end; when no event can
 *   ever start the instances left, they are ended, never left hanging.
 */
import { Attempt, type CallMaker } from "./attempt.ts";
import type { Graph, Group, Instance } from "./graph.ts";
import { GuardQueues } from "./guard_queues.ts";
import { GuardRequests } from "./guard_requests.ts";
import type { Guard } from "./guards/guard.ts";
import { type GuardSet, tryAcquireAll } from "./guards/guard_set.ts";
import { type GuardLive, GuardUsage } from "./guards/guard_usage.ts";
import { Semaphore } from "./guards/semaphore.ts";
import { Heap } from "./heap.ts";
import { MaxFail } from "./max_fail.ts";
import { GroupProgress, type Released } from "./progress.ts";
import type { Plan } from "./plan/plan.ts";
import { type Clock, realClock } from "./runtime/clock.ts";
import { DEFAULT_KILL_GRACE_MS } from "./runtime/spawn.ts";
import type { OutputObserver } from "./runtime/output_observer.ts";
import type { SshConnections } from "./runtime/ssh.ts";
import { type AttemptEnv, failed, FaultReason, type Outcome, StopReason } from "./run_task.ts";
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
  /** SIGTERM → SIGKILL for tasks that set no kill_grace (default 5 s). */
  killGraceMs?: number;
  /**
   * False when nothing but the summary reads the events (a quiet run without
   * --json): modules may then skip collecting output nobody will see
   * (TaskContext.keepOutput). Default true.
   */
  keepOutput?: boolean;
  /** The run's ssh masters, when some host is an ssh host (AttemptEnv.ssh). */
  ssh?: SshConnections;
  /** `--output tag`: told each ctx.exec call's output as it is read (AttemptEnv.observeOutput). */
  observeOutput?: (id: string) => OutputObserver;
  /**
   * Asked as an instance is about to start its first attempt (the journal,
   * with --resume): the id of an earlier run in which it ended ok — it then
   * ends `cached` without running — or undefined to run it.
   */
  cachedRun?: (inst: Instance) => number | undefined;
  /** What each command is given of the make jobserver (core/jobserver.ts); undefined: nothing. */
  jobserver?: AttemptEnv["jobserver"];
  /** Makes each attempt's call; default: call the module here. `--distribute` hands it to workers (core/distribute/). */
  makeCall?: CallMaker;
}

export interface SchedulerResult {
  interrupted: boolean;
  startedAt: number;
  endedAt: number;
  guards: Record<string, GuardSummary>;
  /** Instances whose module call never returned after a cancel; their guards were never released. */
  stuck: number;
  /** Set when instances could never be reached: a bug of ours, reported as exit 70. */
  internalError?: string;
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

const isAttempt = (r: Ready): r is Attempt => r instanceof Attempt;
const seqOf = (r: Ready) => (isAttempt(r) ? r.inst.seq : r.group.first + r.next);

const MAX_BACKOFF_MS = 60_000;
/** The reason given to instances the scheduler could never reach (a bug of ours, never a silent success). */
export const UNREACHABLE = "internal: unreachable instance";

const readyOrder = (a: Ready, b: Ready) => seqOf(a) < seqOf(b);

export class Scheduler {
  private readonly clock: Clock;
  private readonly startedAt: number;
  private readonly ready = new Heap<Ready>(readyOrder);
  /** Instances waiting in the ready queue (a cursor counts for all it has left). */
  private readyCount = 0;
  /** Instances refused by a guard, parked on it until it has room. */
  private readonly waiting = new GuardQueues((guard, length) => {
    this.usageOf(guard).queued(length);
    guard.parked?.(length);
  });
  /** Retries waiting out their backoff, by due time. */
  private readonly backoff = new Heap<{ due: number; attempt: Attempt }>((a, b) => a.due < b.due);
  private readonly running = new Set<Attempt>();
  /** Attempts whose module never returned after a cancel: they keep their guards and fork slot. */
  private readonly stuck = new Set<Attempt>();
  private readonly usage = new Map<Guard, GuardUsage>();
  private readonly forkUsage: GuardUsage;
  private readonly requests: GuardRequests;
  private readonly progress: GroupProgress;
  private readonly maxFail: MaxFail;
  private readonly env: AttemptEnv;
  private readonly done: Uint8Array;
  private finished = 0;
  private stopping = false;
  /** Set once running attempts were told to abort (fail-fast, Ctrl-C; not stopStarting). */
  private runningAborted = false;
  private interrupted = false;
  private internalError?: string;
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
          this.waiting.touch(guard);
          this.pump();
          this.checkFinished();
        }),
      idle: () => this.running.size === 0,
    });
    this.forkUsage = new GuardUsage(new Semaphore("forks", "forks", o.forks), this.startedAt);
    // The same for every attempt: built once, not per instance.
    this.env = {
      clock: this.clock,
      planDir: o.plan.dir,
      vars: o.plan.vars,
      secrets: o.plan.secrets,
      hosts: o.plan.hostInfo,
      killGraceMs: o.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      keepOutput: o.keepOutput ?? true,
      observeOutput: o.observeOutput,
      jobserver: o.jobserver,
      ssh: o.ssh,
      log: (level, id, message) => o.emit({ type: "log", id, level, message, t_ms: this.t() }),
    };
    this.progress = new GroupProgress(o.graph);
    this.maxFail = new MaxFail(o.graph);
    this.done = new Uint8Array(o.graph.instanceCount);
  }

  /** Runs every instance to an end state. Never rejects because a task failed. */
  run(): Promise<SchedulerResult> {
    const { signal } = this.o;
    const finishedAll = new Promise<void>((resolve, reject) => {
      this.resolveRun = resolve;
      this.failRun = reject;
    });
    const onAbort = () => this.guarded(() => this.stop("interrupted", true));
    signal?.addEventListener("abort", onAbort, { once: true });
    this.guarded(() => {
      this.release(this.progress.start(), this.clock.now());
      if (signal?.aborted) this.stop("interrupted", true);
      this.pump();
      this.checkFinished();
    });
    return finishedAll.then(() => {
      signal?.removeEventListener("abort", onAbort);
      if (this.timer !== undefined) this.clock.clearTimer(this.timer);
      const endedAt = this.clock.now();
      this.assertEveryInstanceEnded();
      return {
        interrupted: this.interrupted,
        startedAt: this.startedAt,
        endedAt,
        guards: this.guardSummaries(endedAt),
        stuck: this.stuck.size,
        internalError: this.internalError,
      };
    });
  }

  /**
   * The module code of `source` threw where nothing could catch it (a timer,
   * an unhandled rejection): its running instances fail with that error.
   * Returns how many it failed; 0 when none of that module was running.
   */
  failModule(source: string, message: string): number {
    let n = 0;
    for (const a of this.running) {
      const { task } = a.inst;
      if (task.module.source !== source && !task.race?.some((alt) => alt.module.source === source)) continue;
      a.abort(new FaultReason(message));
      n++;
    }
    return n;
  }

  /**
   * Starts nothing more, and lets what runs finish (a lost coordinator: the
   * shared guards cannot be trusted for new starts). Instances not started
   * end cancelled with `reason`.
   */
  stopStarting(reason: string): void {
    this.guarded(() => this.stop(reason, false, false));
  }

  private t(now = this.clock.now()): number {
    return round(now - this.startedAt);
  }

  /** Fork slots in use: running attempts, and stuck ones, which never give theirs back. */
  private forksInUse(): number {
    return this.running.size + this.stuck.size;
  }

  // ---- the loop -----------------------------------------------------------

  private pump(): void {
    const now = this.clock.now();
    const ready = (a: Attempt) => this.pushReady(a);
    this.waiting.wake(now, ready);
    while (!this.stopping && this.forksInUse() < this.o.forks && this.ready.size > 0) {
      const a = this.takeReady();
      const cachedFrom = a.n === 1 ? this.o.cachedRun?.(a.inst) : undefined;
      if (cachedFrom !== undefined) {
        this.finish(a.inst, 1, { status: "cached", changed: false, error: null, data: {}, bytes: 0, cachedFrom }, now, 0);
        continue;
      }
      a.forkWaitMs += now - a.queuedAt;
      this.waiting.tried(a);
      // Over its task's max_fail_percentage: a first attempt never starts (a retry goes on).
      const overMaxFail = a.n === 1 ? this.maxFail.skipReason(a.inst.task) : undefined;
      if (overMaxFail !== undefined || a.setupError !== undefined) {
        this.finish(a.inst, a.n, overMaxFail !== undefined ? failed(overMaxFail, "skipped") : failed(a.setupError!), now, 0);
        continue;
      }
      const refused = tryAcquireAll(a.requests, now);
      if (refused) this.waiting.park(a, refused, now);
      else this.start(a, now);
      if (this.waiting.anyTouched) this.waiting.wake(now, ready);
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
    if (isAttempt(r)) return r;
    const inst = r.group.instance(r.next++);
    if (r.next < r.group.size) this.ready.push(r);
    return this.newAttempt(inst, 1, r.since);
  }

  private newAttempt(inst: Instance, n: number, now: number): Attempt {
    return new Attempt(inst, n, now, this.requests, this.o.plan.vars);
  }

  /** One timer, at the earliest of: a backoff ending, a time-based guard with waiters refilling. */
  private armTimer(now: number): void {
    const at = Math.min(this.backoff.peek()?.due ?? Infinity, this.waiting.nextDue(now));
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
      for (const a of this.running) a.abort(new StopReason("internal error"));
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
    this.waiting.touchDue(now);
    this.pump();
    this.checkFinished();
  }

  // ---- one attempt's start and end -----------------------------------------

  private start(a: Attempt, now: number): void {
    const { inst } = a;
    this.forkUsage.acquired(1, a.forkWaitMs, now);
    a.requests.forEach((r, i) => this.usageOf(r.guard).acquired(r.amount, a.parkedMs?.[i] ?? 0, now));
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
      guards: this.requests.namesOf(a.requests) as string[],
    });
    a.run(this.env, now, this.o.makeCall).then((outcome) => this.guarded(() => this.onAttemptEnd(a, outcome)));
  }

  /** The module call has returned and its processes are gone (or it is stuck): release, then decide. */
  private onAttemptEnd(a: Attempt, outcome: Outcome): void {
    const now = this.clock.now();
    this.running.delete(a);
    if (outcome.stuck) {
      // Never quietly hand its locks to someone else: they stay held, and so does its fork slot.
      this.stuck.add(a);
    } else {
      a.release(now);
      this.forkUsage.released(1, now);
      for (const r of a.requests) {
        this.usageOf(r.guard).released(r.amount, now);
        this.waiting.touch(r.guard);
      }
    }
    // An unreachable host is not retried here: its connection was (--retries-unreachable), and its later tasks are skipped.
    const retry = outcome.status !== "ok" && outcome.status !== "cancelled" && outcome.status !== "unreachable" && !outcome.stuck && a.n <= a.inst.task.retries && !this.stopping;
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
      this.backoff.push({ due: now + delay, attempt: this.newAttempt(a.inst, a.n + 1, now) });
    } else {
      this.finish(a.inst, a.n, outcome, now, now - a.startedAt);
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
    this.maxFail.ended(inst.task, outcome.status);
    this.release(this.progress.ended(inst, outcome.status === "ok" || outcome.status === "cached"), now);
    if (this.o.failFast && (outcome.status === "failed" || outcome.status === "timed_out" || outcome.status === "unreachable") && !this.stopping) {
      this.stop(`fail-fast: ${inst.id} ${outcome.status === "timed_out" ? "timed out" : outcome.status === "unreachable" ? "found its host unreachable" : "failed"}`, false);
    }
  }

  /** Queues the instances of ready groups; ends those of skipped ones (or of any, once stopping). */
  private release({ ready, skipped }: Released, now: number): void {
    for (const { group, blockedBy } of skipped) this.endGroup(group, 0, "skipped", `skipped: ${blockedBy} did not succeed`, now);
    for (const group of ready) {
      if (this.stopping) {
        this.endGroup(group, 0, "cancelled", "cancelled before it started", now);
      } else {
        this.ready.push({ group, next: 0, since: now });
        this.readyCount += group.size;
      }
    }
  }

  private endUnstarted(inst: Instance, attempt: number, status: Status, error: string, now: number): void {
    if (!this.done[inst.seq]) this.emitEnd(inst, attempt, failed(error, status), now, 0);
  }

  /** Ends the group's instances from `from` on that have not ended and are not running (`skip`), as never started. */
  private endGroup(group: Group, from: number, status: Status, error: string, now: number, skip?: Set<number>): void {
    for (let i = from; i < group.size; i++) {
      const seq = group.first + i;
      if (!this.done[seq] && !skip?.has(seq)) this.emitEnd(group.instance(i), 1, failed(error, status), now, 0);
    }
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
      ...(outcome.stuck ? { stuck: true } : {}),
      ...(outcome.winner ? { winner: outcome.winner } : {}),
      ...(outcome.cachedFrom !== undefined ? { cached_from: outcome.cachedFrom } : {}),
    });
  }

  /**
   * Fail-fast or Ctrl-C: start nothing more, abort what runs (their permits
   * come back as each attempt ends, once its processes are gone), and end
   * everything not started as cancelled.
   */
  private stop(reason: string, interrupted: boolean, abortRunning = true): void {
    if (this.stopping && (this.runningAborted || !abortRunning)) return;
    if (abortRunning) {
      this.runningAborted = true;
      for (const a of this.running) a.abort(new StopReason(reason));
    }
    // Ctrl-C after stopStarting: what runs is cancelled now; the rest has ended already.
    if (this.stopping) {
      this.interrupted = interrupted;
      return;
    }
    this.stopping = true;
    this.interrupted = interrupted;
    const now = this.clock.now();
    const error = `cancelled: ${reason}`;
    // Cursors need nothing here: the loop over every group below ends their instances.
    const waiting: Attempt[] = this.ready.drain().filter(isAttempt);
    this.readyCount = 0;
    waiting.push(...this.backoff.drain().map((b) => b.attempt));
    this.waiting.drain((a) => waiting.push(a));
    for (const a of waiting) this.endUnstarted(a.inst, a.n, "cancelled", error, now);
    const runningSeqs = new Set([...this.running].map((a) => a.inst.seq));
    for (const g of this.o.graph.groups) this.endGroup(g, 0, "cancelled", error, now, runningSeqs);
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.checkFinished();
  }

  /**
   * Ends the run when every instance has ended and nothing runs. When nothing
   * runs, nothing is due and instances are still waiting, no event can ever
   * start them: those waiting on guards or fork slots held by stuck attempts
   * are skipped with that reason; any other is our bug (exit 70) — never a
   * hang, never a silent success.
   */
  private checkFinished(): void {
    if (this.running.size > 0) return;
    if (this.finished < this.o.graph.instanceCount) {
      if (this.timerAt < Infinity || this.backoff.size > 0 || this.waiting.anyTouched) return;
      if (this.readyCount > 0 && this.forksInUse() < this.o.forks) return;
      if (this.waiting.waitsOnExternalGuard()) return;
      this.endUnreachable();
    }
    this.resolveRun?.();
  }

  private endUnreachable(): void {
    const now = this.clock.now();
    const holders = new Map<Guard, string>();
    for (const a of this.stuck) for (const r of a.requests) holders.set(r.guard, a.inst.id);
    const anyStuck = [...this.stuck][0]?.inst.id;
    this.waiting.drain((a, guard) => {
      const holder = holders.get(guard);
      if (holder) this.endUnstarted(a.inst, a.n, "skipped", `skipped: ${guard.name} is held by ${holder}, which is stuck`, now);
    });
    if (anyStuck !== undefined) {
      const why = `skipped: every fork slot is held by a stuck instance (${anyStuck})`;
      for (const r of this.ready.drain()) {
        if (isAttempt(r)) this.endUnstarted(r.inst, 1, "skipped", why, now);
        else this.endGroup(r.group, r.next, "skipped", why, now);
      }
      this.readyCount = 0;
    }
    let unreachable = 0;
    for (let seq = 0; seq < this.done.length; seq++) if (!this.done[seq]) unreachable++;
    if (unreachable === 0) return;
    this.internalError = `${unreachable} instance(s) could never be reached`;
    for (const g of this.o.graph.groups) this.endGroup(g, 0, "skipped", UNREACHABLE, now);
  }

  /** The end-of-run invariant, checked in the code on every run: one final task_end per planned instance. */
  private assertEveryInstanceEnded(): void {
    let ended = 0;
    for (let seq = 0; seq < this.done.length; seq++) ended += this.done[seq]!;
    if (ended !== this.o.graph.instanceCount || this.finished !== ended) {
      throw new Error(`Internal error: ${ended} of ${this.o.graph.instanceCount} instances ended (${this.finished} task_end events)`);
    }
  }

  // ---- telemetry --------------------------------------------------------------

  private usageOf(guard: Guard): GuardUsage {
    let u = this.usage.get(guard);
    if (!u) this.usage.set(guard, (u = new GuardUsage(guard, this.startedAt)));
    return u;
  }

  /** Every guard's state now (forks first), for a live view; changes nothing. */
  guardsNow(): GuardLive[] {
    const now = this.clock.now();
    return [this.forkUsage.live(now), ...this.o.guards.all().map((guard) => this.usageOf(guard).live(now))];
  }

  private guardSummaries(endedAt: number): Record<string, GuardSummary> {
    const out: Record<string, GuardSummary> = { forks: this.forkUsage.summary(this.startedAt, endedAt) };
    for (const guard of this.o.guards.all()) out[guard.name] = this.usageOf(guard).summary(this.startedAt, endedAt);
    return out;
  }
}
