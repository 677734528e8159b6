/**
 * A token bucket shared through the coordinator: the tokens and the time of
 * the last refill live in Redis and are computed with Redis's clock, so the
 * guarantee — in any window of w ms at most burst + per_second × w / 1000
 * takes — holds summed over every runner. A token is taken only for an
 * instance waiting here and handed to it at once; one that no instance takes
 * is given back (never above the burst), so the guarantee still holds.
 */
import { type ShareContext, RemoteShare, type Unit } from "./remote_share.ts";

export class RemoteBucket extends RemoteShare {
  readonly kind = "bucket" as const;

  constructor(name: string, private rate: number, private size: number, cx: ShareContext) {
    super(name, cx);
    check(name, rate, size);
  }

  get perSecond(): number {
    return this.rate;
  }

  get burst(): number {
    return this.size;
  }

  get capacity(): number {
    return this.size;
  }

  /** The strictest declaration of this runner holds (see TokenBucket.tighten). */
  tighten(perSecond: number, burst: number): void {
    check(this.name, perSecond, burst);
    this.rate = Math.min(this.rate, perSecond);
    this.size = Math.min(this.size, burst);
  }

  /** A token starts its instance at once or goes back soon: starts trail their takes by at most this. */
  protected override get holdMs(): number {
    return Math.min(20, super.holdMs);
  }

  /** Tokens for every instance waiting here (at most BATCH), in one round trip. */
  protected async ask(wanted: number): Promise<true | number> {
    const r = Number(await this.cx.link.run("fanoutBucketTake", [this.key], [this.rate, this.size, Math.min(wanted, BATCH)]));
    if (r < 1) return -r;
    const since = this.cx.now();
    for (let i = 0; i < r; i++) this.free.push({ id: "", since });
    return true;
  }

  protected async giveBack(units: Unit[]): Promise<void> {
    await this.cx.link.run("fanoutBucketRefund", [this.key], [this.rate, this.size, units.length, this.channel]);
  }

  /** A token is consumed when taken. */
  protected taken(): void {}

  release(): void {}
}

/** The most tokens one script call takes: many waiters cost few round trips, and none takes a whole burst for instances that may not start. */
const BATCH = 16;

function check(name: string, perSecond: number, burst: number): void {
  if (!(perSecond > 0)) throw new RangeError(`RemoteBucket ${name}: per_second must be > 0, got ${perSecond}`);
  if (!(burst >= 1)) throw new RangeError(`RemoteBucket ${name}: burst must be >= 1, got ${burst}`);
}
