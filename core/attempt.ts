/**
 * One attempt of one instance, from the moment it is ready to the moment its
 * guards are given back: which guards it needs, how long it waited for each,
 * the module call, the abort, and the release.
 *
 * The order that makes locks hold for real processes: an aborted attempt
 * ends only when its module call has returned, and a module's exec returns
 * only once the process group is empty (core/runtime/spawn.ts). So release()
 * runs after the last process of the attempt is gone. A stuck call (one that
 * never returns) never releases: its guards stay held until the run ends.
 */
import type { Instance } from "./graph.ts";
import type { Guard, GuardRequest } from "./guards/guard.ts";
import { releaseAll } from "./guards/guard_set.ts";
import type { GuardRequests } from "./guard_requests.ts";
import type { TemplateError } from "./plan/template.ts";
import { type Call, callOf, raceRequests } from "./race.ts";

/** Makes an attempt's call: the module itself (callOf), or a stand-in that runs it elsewhere (core/distribute/). */
export type CallMaker = (inst: Instance, attempt: number, env: AttemptEnv) => Call;
import type { AttemptEnv, Outcome } from "./run_task.ts";

export class Attempt {
  requests: GuardRequest[] = [];
  /** Set when rendering the hint key failed: the attempt fails without running. */
  readonly setupError?: string;
  /** When it became ready (dependencies done or backoff over): wait_ms starts here. */
  readySince: number;
  /** When it last entered the ready queue or a guard's queue. */
  queuedAt: number;
  /** Milliseconds spent in the ready queue, waiting for a fork slot. */
  forkWaitMs = 0;
  /** Milliseconds spent parked on each guard, indexed like `requests`. */
  parkedMs?: number[];
  /** The guard that woke it, until it has had its try, and how much of it this attempt needs. */
  wokenFrom?: Guard;
  wokenAmount = 0;
  /** When the module was called. */
  startedAt = 0;
  private call?: Call;

  constructor(readonly inst: Instance, readonly n: number, now: number, requests: GuardRequests, vars: Record<string, unknown>) {
    this.readySince = this.queuedAt = now;
    try {
      this.requests = inst.task.race ? raceRequests(inst, requests, vars) : requests.of(inst, vars);
    } catch (e) {
      this.setupError = `cannot render the hint key: ${(e as TemplateError).message}`;
    }
  }

  /** How much of `guard` this attempt needs (it is parked on a guard it requested). */
  amountOf(guard: Guard): number {
    for (const r of this.requests) if (r.guard === guard) return r.amount;
    return 1;
  }

  /** Its own limit on `guard`, when it declared one stricter than the guard's capacity. */
  limitOf(guard: Guard): number | undefined {
    for (const r of this.requests) if (r.guard === guard) return r.limit;
    return undefined;
  }

  /** Adds the time since it was queued to its wait on `guard`. */
  leftQueueOf(guard: Guard, now: number): void {
    const parkedMs = this.parkedMs ?? (this.parkedMs = this.requests.map(() => 0));
    const i = this.requests.findIndex((r) => r.guard === guard);
    parkedMs[i] = parkedMs[i]! + (now - this.queuedAt);
    this.queuedAt = now;
  }

  /**
   * Calls the module (its guards are already taken). Resolves, never
   * rejects, once the call has returned and its processes are gone, or has
   * been declared stuck.
   */
  run(env: AttemptEnv, now: number, makeCall: CallMaker = callOf): Promise<Outcome> {
    this.startedAt = now;
    this.call = makeCall(this.inst, this.n, env);
    return this.call.outcome;
  }

  /** Tells the running module to stop; the attempt ends when it has. */
  abort(reason: Error): void {
    this.call?.abort(reason);
  }

  /** Gives back every guard the attempt took. */
  release(now: number): void {
    releaseAll(this.requests, now);
  }
}
