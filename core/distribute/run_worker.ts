/**
 * One runner's part in one distributed run: claim ready instances from the
 * run's queue while it has free forks, run each as a local run would
 * (core/run_task.ts), report the outcome, and keep its leases alive.
 *
 * Leases: an entry read by the consumer group stays pending, owned by this
 * runner, until it is acknowledged. Every lease/3 the runner renews what it
 * still owns (XCLAIM to itself, in one script that first checks the owner);
 * an entry idle longer than the lease — its runner was killed, or lost Redis
 * — is taken over by any runner with room (XAUTOCLAIM). So an instance runs
 * at least once, and more than once only when its runner stopped renewing:
 * the submitter keeps the first outcome reported for a dispatch.
 *
 * Tokens: a claimed attempt starts only when its task's CPU and I/O tokens
 * are free on this runner's machine (worker_tokens.ts); until then it waits
 * here, its lease renewed, holding a fork. So that a runner does not sit on
 * work others could start, it claims nothing more while one of its attempts
 * waits, and claims one entry at a time when the plan declares tokens at all.
 *
 * Used by `fanout worker` and, unless --no-local, by the submitter itself.
 */
import type { Redis } from "ioredis";
import { standaloneInstance } from "../graph.ts";
import type { GuardRequest } from "../guards/guard.ts";
import type { PoolOverrides } from "../machine.ts";
import type { Plan, Task } from "../plan/plan.ts";
import { callOf, type Call } from "../race.ts";
import { sshConnectionsFor } from "../hosts/connections.ts";
import type { SshConnections } from "../runtime/ssh.ts";
import { type AttemptEnv, failed, type Outcome, StopReason } from "../run_task.ts";
import { realClock } from "../runtime/clock.ts";
import { DEFAULT_KILL_GRACE_MS } from "../runtime/spawn.ts";
import { type Dispatch, GROUP, type Report, type RunKeys, type RunSpec } from "./protocol.ts";
import { every } from "./every.ts";
import { runIsOver } from "./publish.ts";
import { WorkerTokens } from "./worker_tokens.ts";

/** Renews the caller's own pending entries; returns those it no longer owns. */
const RENEW = `
local lost = {}
for i, id in ipairs(ARGV) do
  if i > 1 then
    local p = redis.call('XPENDING', KEYS[1], '${GROUP}', id, id, 1)
    if p[1] and p[1][2] == ARGV[1] then
      redis.call('XCLAIM', KEYS[1], '${GROUP}', ARGV[1], 0, id, 'JUSTID')
    else
      table.insert(lost, id)
    end
  end
end
return lost`;

/** How often a runner with work looks for cancels and aborts. */
const POLL_MS = 250;
/** How long an idle runner blocks on the queue before looking at the run again. */
const BLOCK_MS = 1000;

interface Running {
  dispatch: Dispatch;
  /** This machine's tokens it takes before it starts. */
  requests: GuardRequest[];
  /** Undefined while it waits for its tokens. */
  call?: Call;
  /** Its lease was taken over: its outcome is not reported (another runner's is). */
  lost: boolean;
}

export interface RunWorkerOptions {
  /** For commands. */
  redis: Redis;
  /** For the blocking read of the queue only. */
  blocking: Redis;
  keys: RunKeys;
  spec: RunSpec;
  /** The run's plan, loaded here from spec (or the submitter's own). */
  plan: Plan;
  /** This runner's name: the `runner` of the events it causes. */
  name: string;
  forks: number;
  /** --cpu-tokens, --io-tokens, --storage-type given to this runner: they size its machine's pools. */
  pools?: PoolOverrides;
  /** The directory commands run in (the plan's, when it exists here). */
  planDir: string;
  /** Aborting it stops this runner: its running instances are cancelled and reported. */
  signal?: AbortSignal;
  /** Told of each dispatch as it starts (tests, the worker's own log). */
  onStart?: (d: Dispatch) => void;
}

export class RunWorker {
  private readonly running = new Map<string, Running>();
  private readonly tasks = new Map<string, Task>();
  /** Attempts claimed whose module call has not ended, waiting ones included: the forks in use (a finished one may still be reporting). */
  private busy = 0;
  /** Claimed entries waiting for this machine's tokens, the oldest first. */
  private readonly waiting: string[] = [];
  private readonly tokens: WorkerTokens;
  private over = false;
  private lastOverCheck = 0;
  private wake?: () => void;
  private reclaimCursor = "0-0";
  private lastReclaim = 0;
  /** The plan's ssh hosts, reached from this runner's machine. */
  private readonly ssh: SshConnections | undefined;

  constructor(private readonly o: RunWorkerOptions) {
    for (const t of o.plan.tasks) this.tasks.set(t.name, t);
    this.ssh = sshConnectionsFor(o.plan);
    this.tokens = new WorkerTokens(o.plan, o.planDir, o.pools);
  }

  /** This runner's CPU and I/O pools, in words. */
  describeTokens(): string {
    return this.tokens.describe();
  }

  /** Serves the run until it is over (cancelled or ended) or `signal` aborts. Rejects when Redis fails. */
  async serve(): Promise<void> {
    const { signal } = this.o;
    const stop = () => this.finish(new StopReason(String(signal?.reason?.message ?? "the worker was stopped")));
    signal?.addEventListener("abort", stop, { once: true });
    const poll = every(POLL_MS, () => this.poll());
    const renew = every(Math.max(50, this.o.spec.leaseMs / 3), () => this.renew());
    try {
      if (signal?.aborted) stop();
      while (!this.over) {
        const free = this.o.forks - this.busy;
        // One waits for tokens: what is claimed now would wait too, while other runners might start it.
        if (free <= 0 || this.waiting.length > 0) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        const claimed = await this.claim(this.tokens.used ? 1 : free);
        for (const [entry, dispatch] of claimed) this.start(entry, dispatch);
        // Idle, or now and then while busy (poll() looks too, while anything runs).
        if ((claimed.length === 0 || realClock.now() - this.lastOverCheck >= POLL_MS) && await this.runIsOver()) this.finish(new StopReason("the run was cancelled"));
      }
      // Cancelled: what runs ends (its processes gone) and is reported before the runner leaves.
      while (this.running.size > 0) await new Promise<void>((resolve) => (this.wake = resolve));
    } finally {
      poll.stop();
      renew.stop();
      signal?.removeEventListener("abort", stop);
      await this.ssh?.close();
    }
  }

  private finish(reason: Error): void {
    this.over = true;
    for (const [entry, r] of this.running) this.abort(entry, r, reason);
    this.wake?.();
  }

  /** A started attempt is told to stop; a waiting one ends cancelled here, never started. */
  private abort(entry: string, r: Running, reason: Error): void {
    if (r.call) return r.call.abort(reason);
    const at = this.waiting.indexOf(entry);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    this.busy--;
    void this.end(entry, r, failed(reason.message, "cancelled"), []);
  }

  private runIsOver(): Promise<boolean> {
    this.lastOverCheck = realClock.now();
    return runIsOver(this.o.redis, this.o.keys);
  }

  /** Up to `count` entries: first any whose lease ran out, then new ones (blocking a while when there are none). */
  private async claim(count: number): Promise<[string, Dispatch][]> {
    const { keys, name, spec } = this.o;
    let entries: [string, string[]][] = [];
    const now = realClock.now();
    if (now - this.lastReclaim >= spec.leaseMs / 2) {
      this.lastReclaim = now;
      const [cursor, claimed] = await this.o.redis.xautoclaim(keys.queue, GROUP, name, spec.leaseMs, this.reclaimCursor, "COUNT", count) as [string, [string, string[]][]];
      this.reclaimCursor = cursor;
      entries = claimed.filter((e) => e && e[1]);
    }
    if (entries.length === 0) {
      const read = await this.o.blocking.xreadgroup("GROUP", GROUP, name, "COUNT", count, "BLOCK", BLOCK_MS, "STREAMS", keys.queue, ">") as [string, [string, string[]][]][] | null;
      entries = read?.[0]?.[1] ?? [];
    }
    return entries.map(([id, fields]) => [id, JSON.parse(fields[1]!) as Dispatch]);
  }

  /** A claimed entry: it starts now if this machine's tokens allow, else waits for them. */
  private start(entry: string, dispatch: Dispatch): void {
    const task = this.tasks.get(dispatch.task);
    const running: Running = { dispatch, requests: task ? this.tokens.requestsFor(task, dispatch.host) : [], lost: false };
    this.running.set(entry, running);
    this.busy++;
    this.waiting.push(entry);
    if (this.over) return this.abort(entry, running, new StopReason("the run was cancelled"));
    this.startWaiting();
  }

  /** Tokens were given back: the waiting attempts that fit now start, the oldest first. */
  private startWaiting(): void {
    for (let i = 0; i < this.waiting.length;) {
      const entry = this.waiting[i]!;
      const r = this.running.get(entry)!;
      if (!this.tokens.tryTake(r.requests)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.launch(entry, r);
    }
  }

  /** Calls the attempt's module; its tokens are held until the call has ended (its processes gone). */
  private launch(entry: string, running: Running): void {
    const { dispatch } = running;
    const task = this.tasks.get(dispatch.task);
    const env: AttemptEnv = {
      clock: realClock,
      planDir: this.o.planDir,
      vars: this.o.plan.vars,
      secrets: this.o.plan.secrets,
      killGraceMs: this.o.spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      keepOutput: true,
      ssh: this.ssh,
      log: (level, _id, message) => logs.push({ level, message }),
    };
    const logs: Extract<Report, { kind: "end" }>["logs"] = [];
    const call: Call = task
      ? callOf(standaloneInstance(task, dispatch.host, dispatch.item, dispatch.id), dispatch.attempt, env)
      : { outcome: Promise.resolve(failed(`the worker's plan has no task "${dispatch.task}"`)), abort: () => {} };
    running.call = call;
    this.o.onStart?.(dispatch);
    void this.report({ kind: "claim", token: dispatch.token, runner: this.o.name }).catch(() => {});
    void call.outcome.then((outcome) => {
      // Its fork and tokens are free as soon as its processes are gone; the report follows.
      // A stuck call keeps both, as it keeps its guards in a local run.
      if (!outcome.stuck) {
        this.busy--;
        this.tokens.release(running.requests);
        this.startWaiting();
      }
      this.wake?.();
      return this.end(entry, running, outcome, logs);
    });
  }

  private async end(entry: string, running: Running, outcome: Outcome, logs: Extract<Report, { kind: "end" }>["logs"]): Promise<void> {
    try {
      if (!running.lost) {
        const report: Report = { kind: "end", token: running.dispatch.token, runner: this.o.name, outcome, logs };
        await this.o.redis.multi()
          .xadd(this.o.keys.reports, "*", "r", JSON.stringify(report))
          .xack(this.o.keys.queue, GROUP, entry)
          .exec();
      }
    } catch {
      // Redis is away: the lease runs out and another runner takes the instance over.
    } finally {
      this.running.delete(entry);
      this.wake?.();
    }
  }

  private report(report: Report): Promise<unknown> {
    return this.o.redis.xadd(this.o.keys.reports, "*", "r", JSON.stringify(report));
  }

  /** Cancels what the submitter aborted, and everything once the run is cancelled. */
  private async poll(): Promise<void> {
    if (this.running.size === 0) return;
    const entries = [...this.running];
    const tokens = entries.map(([, r]) => r.dispatch.token);
    const [over, flags] = await Promise.all([this.runIsOver(), this.o.redis.smismember(this.o.keys.aborts, ...tokens)]);
    if (over) return this.finish(new StopReason("the run was cancelled"));
    entries.forEach(([entry, r], i) => flags[i] === 1 && this.abort(entry, r, new StopReason("cancelled by the submitter")));
  }

  private async renew(): Promise<void> {
    const ids = [...this.running.keys()];
    if (ids.length === 0) return;
    const lost = await this.o.redis.eval(RENEW, 1, this.o.keys.queue, this.o.name, ...ids) as string[];
    for (const id of lost) {
      const r = this.running.get(id);
      if (!r || r.lost) continue;
      r.lost = true;
      this.abort(id, r, new StopReason("its lease was taken over by another runner"));
    }
  }
}
