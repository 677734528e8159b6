/**
 * `race:` — one attempt runs every alternative at once; the first to
 * succeed wins and the others are cancelled.
 *
 * The race ends, and so its attempt, only when every alternative's module
 * call has returned — for a cancelled loser, once its process groups are
 * empty (core/runtime/spawn.ts). Its guards are the union of the race's own
 * and every alternative's, taken at once before it starts and released
 * after that end, so a loser's guards are never handed on while its
 * processes live. The race takes one fork slot, whatever the number of
 * alternatives: it runs at `-p 1` too.
 */
import type { Instance } from "./graph.ts";
import type { Guard, GuardRequest } from "./guards/guard.ts";
import type { GuardRequests } from "./guard_requests.ts";
import type { Task } from "./plan/plan.ts";
import { type AttemptEnv, ModuleCall, type Outcome } from "./run_task.ts";

/** What an attempt calls: one module, or a race of several. */
export interface Call {
  readonly outcome: Promise<Outcome>;
  abort(reason: Error): void;
}

export function callOf(inst: Instance, attempt: number, env: AttemptEnv): Call {
  return inst.task.race ? new RaceCall(inst, attempt, env, inst.task.race) : new ModuleCall(inst, attempt, env);
}

/** The reason a losing alternative is cancelled with. */
export class LostRaceReason extends Error {
  override name = "LostRaceReason";
}

const label = (alts: readonly Task[], i: number) => `race[${i}] (${alts[i]!.module.name})`;

export class RaceCall implements Call {
  readonly outcome: Promise<Outcome>;
  private readonly calls: ModuleCall[];
  private winner = -1;

  constructor(inst: Instance, attempt: number, env: AttemptEnv, private readonly alts: readonly Task[]) {
    this.calls = alts.map((alt) => new ModuleCall(inst, attempt, env, alt));
    this.outcome = Promise.all(this.calls.map((call, i) => call.outcome.then((o) => this.settled(i, o)))).then((all) => this.result(all));
  }

  abort(reason: Error): void {
    for (const call of this.calls) call.abort(reason);
  }

  /** The first success wins: every other alternative is told to stop. */
  private settled(i: number, outcome: Outcome): Outcome {
    if (outcome.status === "ok" && this.winner < 0) {
      this.winner = i;
      const reason = new LostRaceReason(`cancelled: lost the race to ${label(this.alts, i)}`);
      this.calls.forEach((call, j) => j !== i && call.abort(reason));
    }
    return outcome;
  }

  /** Every alternative has returned: the winner's outcome, or every error. */
  private result(all: Outcome[]): Outcome {
    // A loser that never returned keeps the race's guards held (core/scheduler.ts).
    const stuck = all.some((o) => o.stuck) ? { stuck: true } : {};
    if (this.winner >= 0) {
      return { ...all[this.winner]!, ...stuck, winner: { index: this.winner, module: this.alts[this.winner]!.module.name } };
    }
    const errors = all.map((o, i) => `${label(this.alts, i)}: ${o.error ?? o.status}`).join("; ");
    const status = all.some((o) => o.status === "cancelled") ? "cancelled" : all.every((o) => o.status === "timed_out") ? "timed_out" : "failed";
    const what = status === "cancelled" ? "race cancelled" : "every alternative failed";
    return { status, changed: all.some((o) => o.changed), error: `${what}: ${errors}`, data: {}, bytes: 0, ...stuck };
  }
}

/**
 * A race's guard requests: its own (its hint, resources and group limits)
 * and every alternative's, in name order. A guard named more than once is
 * held once, at the largest amount and the strictest limit: alternatives
 * sharing a lock run side by side under it.
 */
export function raceRequests(inst: Instance, requests: GuardRequests, vars: Record<string, unknown>): GuardRequest[] {
  const scope = { host: inst.host, item: inst.item, vars, task: inst.task.name };
  const merged = new Map<Guard, GuardRequest>();
  for (const r of [requests.of(inst, vars), ...inst.task.race!.map((alt) => requests.for(alt, scope))].flat()) {
    const seen = merged.get(r.guard);
    if (!seen) merged.set(r.guard, r);
    else merged.set(r.guard, { guard: r.guard, amount: Math.max(seen.amount, r.amount), limit: strictest(seen.limit, r.limit) });
  }
  return [...merged.values()].sort((a, b) => (a.guard.name < b.guard.name ? -1 : a.guard.name > b.guard.name ? 1 : 0));
}

function strictest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
