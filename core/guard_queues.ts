/**
 * Instances parked on the guard that refused them, and what wakes them. A
 * refused instance holds nothing while it waits here. It is woken when its
 * guard has room again: after a release (the guard is "touched"), or at the
 * guard's readyAt for guards whose room grows back with time (buckets, free
 * memory), which the scheduler's one timer watches.
 *
 * Order: per guard, the lowest sequence number first (plan order). Room
 * promised to a woken instance that has not had its try yet is not promised
 * twice.
 */
import type { Attempt } from "./attempt.ts";
import type { Guard } from "./guards/guard.ts";
import { Heap } from "./heap.ts";

const bySeq = (a: Attempt, b: Attempt) => a.inst.seq < b.inst.seq;

export class GuardQueues {
  private readonly parked = new Map<Guard, Heap<Attempt>>();
  /** Amounts woken instances will take that they have not tried for yet, per guard: room already spoken for. */
  private readonly promised = new Map<Guard, number>();
  /** Guards with waiters whose room grows back with time (buckets, memory): the timer watches these. */
  private readonly timed = new Set<Guard>();
  /** Guards whose room may have grown since the last look. */
  private readonly touched = new Set<Guard>();

  /** `queued` is told each queue's new length, for telemetry. */
  constructor(private readonly queued: (guard: Guard, length: number) => void) {}

  park(a: Attempt, guard: Guard, now: number): void {
    let queue = this.parked.get(guard);
    if (!queue) this.parked.set(guard, (queue = new Heap<Attempt>(bySeq)));
    a.queuedAt = now;
    queue.push(a);
    this.queued(guard, queue.size);
    // Room in a bucket or a memory guard comes back with time; in the others only with a release.
    if (guard.readyAt(a.amountOf(guard), now, a.limitOf(guard)) < Infinity) this.timed.add(guard);
  }

  /** The guard's room may have grown: look at its waiters on the next wake(). */
  touch(guard: Guard): void {
    this.touched.add(guard);
  }

  get anyTouched(): boolean {
    return this.touched.size > 0;
  }

  /** A woken attempt is having its try: the room kept for it is free again (for it, or for the next). */
  tried(a: Attempt): void {
    const guard = a.wokenFrom;
    if (!guard) return;
    this.promised.set(guard, this.promised.get(guard)! - a.wokenAmount);
    // Had it been refused elsewhere, the room it was woken for is still there.
    this.touched.add(guard);
    a.wokenFrom = undefined;
  }

  /** Moves waiters of touched guards to `ready`, in order, while each guard has room for the next one's need. */
  wake(now: number, ready: (a: Attempt) => void): void {
    for (const guard of this.touched) {
      this.touched.delete(guard);
      const queue = this.parked.get(guard);
      if (!queue || queue.size === 0) continue;
      let promised = this.promised.get(guard) ?? 0;
      while (queue.size > 0) {
        const next = queue.peek()!;
        const amount = next.amountOf(guard);
        if (guard.available(now, next.limitOf(guard)) - promised < amount) break;
        queue.pop();
        this.queued(guard, queue.size);
        next.leftQueueOf(guard, now);
        next.wokenFrom = guard;
        next.wokenAmount = amount;
        promised += amount;
        ready(next);
      }
      this.promised.set(guard, promised);
    }
  }

  /**
   * When the earliest time-based guard can take its first waiter: a time in
   * the future, `now` when room appeared without a release (a refill
   * between two looks: that guard is touched), or Infinity.
   */
  nextDue(now: number): number {
    let at = Infinity;
    for (const guard of this.timed) {
      const head = this.parked.get(guard)!.peek();
      if (!head) {
        this.timed.delete(guard);
        continue;
      }
      const amount = head.amountOf(guard);
      const when = guard.readyAt(amount, now, head.limitOf(guard));
      if (when > now) {
        if (when < at) at = when;
      } else if (guard.available(now, head.limitOf(guard)) - (this.promised.get(guard) ?? 0) >= amount) {
        this.touched.add(guard);
        at = now;
      }
      // Otherwise instances already woken from this guard will use the room, and touch it again.
    }
    return at;
  }

  /** At the timer: touches every time-based guard whose first waiter can now be taken. */
  touchDue(now: number): void {
    for (const guard of this.timed) {
      const head = this.parked.get(guard)!.peek();
      if (head && guard.readyAt(head.amountOf(guard), now, head.limitOf(guard)) <= now) this.touched.add(guard);
    }
  }

  /** True when an instance waits on a guard whose room can appear from outside the run. */
  waitsOnExternalGuard(): boolean {
    for (const [guard, queue] of this.parked) if (guard.external && queue.size > 0) return true;
    return false;
  }

  /** Empties every queue, handing each waiter with the guard it waited for. */
  drain(each: (a: Attempt, guard: Guard) => void): void {
    for (const [guard, queue] of this.parked) {
      for (const a of queue.drain()) each(a, guard);
      this.queued(guard, 0);
    }
  }
}
