/**
 * A runner's own CPU and I/O tokens in a distributed run. The submitter does
 * not count them (they are each machine's, not the run's): every runner —
 * a worker, or the submitter's local share — sizes the pools of its own
 * machine as a local run would (core/machine.ts: cores, the plan's
 * `resources:`, the storage probe, the flags it was given) and starts a
 * claimed attempt only when its task's tokens are free here.
 *
 * An ssh host's tokens are its own cores and disk, not the runner's: the
 * submitter counts those (it probes each ssh host), so an attempt on an ssh
 * host takes nothing here.
 */
import type { GuardRequest } from "../guards/guard.ts";
import { GuardSet, releaseAll, tryAcquireAll } from "../guards/guard_set.ts";
import { tokenRequests } from "../guard_requests.ts";
import { type MachineFacts, machineFacts, type PoolOverrides } from "../machine.ts";
import type { Plan, Task } from "../plan/plan.ts";
import { realClock } from "../runtime/clock.ts";

export class WorkerTokens {
  private readonly guards: GuardSet;
  private readonly machine: MachineFacts;
  /** Requests by task: every local host shares this machine's pools, so the host does not matter. */
  private readonly cache = new Map<Task, GuardRequest[]>();
  /**
   * Whether an attempt here can need a token at all: some task of the plan
   * on a local host declares cpu or io. When none does, nothing waits.
   */
  readonly used: boolean;

  /** `dir`: the directory commands run in here, whose device sizes the I/O pool. */
  constructor(private readonly plan: Plan, dir: string, overrides: PoolOverrides = {}) {
    this.machine = machineFacts(dir === plan.dir ? plan : { ...plan, dir }, overrides);
    const m = this.machine;
    this.guards = new GuardSet({ cpu: m.cpuTokens, io: m.ioPools.map((p) => ({ name: p.name, capacity: p.tokens, sequentialIoWeight: p.sequentialIoWeight })) });
    const local = plan.hosts.some((h) => !this.isSsh(h));
    this.used = local && plan.tasks.some((t) => [t, ...(t.race ?? [])].some((x) => x.resources.cpu || x.resources.io));
  }

  /** The pools' sizes, in words (the worker's stderr). */
  describe(): string {
    return `cpu tokens ${this.machine.cpuTokens}, ${this.machine.ioPools.map((p) => `${p.name} tokens ${p.tokens}`).join(", ")}`;
  }

  /**
   * What an attempt of `task` on `host` takes here. A race takes, of each
   * pool, the most any of its parts (itself, each alternative) declares, as
   * in a local run (core/race.ts raceRequests).
   */
  requestsFor(task: Task, host: string): GuardRequest[] {
    if (this.isSsh(host)) return [];
    let requests = this.cache.get(task);
    if (!requests) this.cache.set(task, (requests = this.build(task, host)));
    return requests;
  }

  /** Takes every token of `requests` or none; never waits. */
  tryTake(requests: readonly GuardRequest[]): boolean {
    return requests.length === 0 || tryAcquireAll(requests, realClock.now()) === undefined;
  }

  release(requests: readonly GuardRequest[]): void {
    releaseAll(requests, realClock.now());
  }

  private build(task: Task, host: string): GuardRequest[] {
    const merged = new Map<string, GuardRequest>();
    for (const part of [task, ...(task.race ?? [])]) {
      for (const r of tokenRequests(this.guards, part, host, this.machine.ioPoolOf(part).name)) {
        const seen = merged.get(r.guard.name);
        if (!seen || seen.amount < r.amount) merged.set(r.guard.name, r);
      }
    }
    return [...merged.values()];
  }

  private isSsh(host: string): boolean {
    return this.plan.hostInfo?.[host]?.connection === "ssh";
  }
}
