/**
 * A guard whose room is leased from the coordinator, behind the synchronous
 * Guard interface (core/guards/guard.ts). It keeps a local share — units the
 * coordinator granted that no local instance holds — and answers tryAcquire
 * from it alone, so the scheduler never waits on the network.
 *
 * - Demand is the number of instances parked on it (Guard.parked): for each
 *   one the share lacks, one atomic script asks the coordinator for a unit;
 *   a grant grows the share and wakes the scheduler (roomAppeared). A refusal
 *   waits for a "room" message, the time the script says room will come, or
 *   the poll, whichever is first: never a busy loop.
 * - No unit is kept that no local instance will use, and none is used twice
 *   before the coordinator hears of it: a lease given back by an instance goes
 *   straight back to the coordinator (so runners take turns, instead of one
 *   runner passing a lock among its own instances while others wait); a unit
 *   granted but not taken (its instance was then refused by another guard)
 *   goes back after `holdMs`.
 */
import type { Guard } from "../guard.ts";
import { Samples } from "../../stats.ts";
import type { CoordinatorLink } from "./coordinator_link.ts";

/** A unit of the share: a lease (locks) or a token (buckets). */
export interface Unit {
  id: string;
  /** When it was granted. */
  since: number;
  /** Found gone by a renewal while an instance held it: renewed no more, and dropped when given back. */
  lost?: boolean;
}

export interface ShareContext {
  link: CoordinatorLink;
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** GuardSet.roomAppeared for this guard. */
  roomAppeared(guard: Guard): void;
  /** A fresh lease id, unique among all runners. */
  newId(): string;
  pollMs: number;
  holdMs: number;
  /** Every key and channel starts with it. */
  prefix: string;
}

export abstract class RemoteShare implements Guard {
  readonly external = true;
  abstract readonly kind: Guard["kind"];
  abstract readonly capacity: number;
  /** Granted, held by no local instance: what tryAcquire hands out. */
  protected readonly free: Unit[] = [];
  private waiters = 0;
  private filling = false;
  private sweepTimer: unknown;
  private sweepAt = Infinity;
  /** Script calls per grant (a bucket's grant may hold several tokens). */
  readonly roundTrips = new Samples();
  /** The key of this guard's state in the coordinator, and the channel its "room" messages come on. */
  readonly key: string;
  readonly channel: string;

  constructor(readonly name: string, protected readonly cx: ShareContext) {
    this.key = `${cx.prefix}${name}`;
    this.channel = `${cx.prefix}room:${name}`;
  }

  /** One script call for up to `wanted` units: true when granted (they are then in `free`), else ms until room may come. */
  protected abstract ask(wanted: number): Promise<true | number>;
  /** Gives units back to the coordinator. */
  protected abstract giveBack(units: Unit[]): Promise<void>;
  /** A unit leaves the share for a local instance. */
  protected abstract taken(unit: Unit): void;

  /** How long a granted unit no instance took is kept before it goes back. */
  protected get holdMs(): number {
    return this.cx.holdMs;
  }

  tryAcquire(amount: number): boolean {
    if (!this.cx.link.usable || this.free.length < amount) return false;
    for (let i = 0; i < amount; i++) this.taken(this.free.pop()!);
    return true;
  }

  abstract release(amount: number, now: number, limit?: number): void;

  available(): number {
    return this.cx.link.usable ? this.free.length : 0;
  }

  readyAt(amount: number, now: number): number {
    return this.available() >= amount ? now : Infinity;
  }

  parked(count: number): void {
    this.waiters = count;
    if (count > this.free.length) void this.fill();
    else if (this.free.length > count) this.sweepSoon(0);
  }

  /** The coordinator answers again after an outage: what was granted before can be handed out, and waiters asked for. */
  resume(): void {
    if (this.free.length > 0) this.cx.roomAppeared(this);
    if (this.waiters > this.free.length) void this.fill();
  }

  /** Asks for units while more instances wait here than the share holds (and the link is up: resume() goes on). */
  private async fill(): Promise<void> {
    if (this.filling) return;
    this.filling = true;
    try {
      // Subscribed before the first ask: a release after a refusal cannot go unheard.
      await this.cx.link.subscribe(this.channel);
      let trips = 0;
      while (this.cx.link.usable && this.waiters > this.free.length) {
        trips++;
        let wait: number;
        const seen = this.cx.link.roomsSeen(this.channel);
        try {
          const granted = await this.ask(this.waiters - this.free.length);
          if (granted === true) {
            this.roundTrips.push(trips);
            trips = 0;
            this.cx.roomAppeared(this);
            continue;
          }
          wait = granted;
        } catch {
          // The link is down: it probes and wakes every waiter when it answers again.
          wait = this.cx.pollMs;
        }
        await this.cx.link.waitForRoom(this.channel, Math.min(wait, this.cx.pollMs), seen);
      }
    } finally {
      this.filling = false;
      this.sweepSoon(this.holdMs);
    }
  }

  /** A unit came back from a local instance: the coordinator has it back at once; waiters here ask again. */
  protected returned(unit: Unit): void {
    if (!unit.lost) void this.giveBack([unit]).catch(() => {});
    if (this.waiters > this.free.length) void this.fill();
  }

  private sweepSoon(ms: number): void {
    if (this.free.length === 0) return;
    const at = this.cx.now() + ms;
    if (at >= this.sweepAt) return;
    if (this.sweepTimer !== undefined) this.cx.clearTimer(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = this.cx.setTimer(() => this.sweep(), ms);
  }

  /** Gives back the units beyond what the instances parked here need, once each is due. */
  private sweep(): void {
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    const now = this.cx.now();
    const due: Unit[] = [];
    let keep = this.waiters;
    let next = Infinity;
    // Newest first are kept: the oldest unused units go back.
    for (let i = this.free.length - 1; i >= 0; i--) {
      const unit = this.free[i]!;
      if (keep > 0) {
        keep--;
        continue;
      }
      const dueAt = unit.since + this.holdMs;
      if (dueAt <= now) {
        due.push(unit);
        this.free.splice(i, 1);
      } else next = Math.min(next, dueAt);
    }
    if (due.length > 0) void this.giveBack(due).catch(() => {});
    if (next < Infinity) this.sweepSoon(next - now);
  }

  /** Everything still in the share goes back (the run's end). */
  async drain(): Promise<void> {
    if (this.sweepTimer !== undefined) this.cx.clearTimer(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    const all = this.free.splice(0);
    if (all.length > 0 && this.cx.link.usable) await this.giveBack(all).catch(() => {});
  }
}
