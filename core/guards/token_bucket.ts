import type { Guard } from "./guard.ts";

/**
 * A token bucket: holds at most `burst` tokens, refills continuously at
 * `perSecond`, starts full. Tokens are consumed, not returned, so release()
 * does nothing. Time comes in as an argument, which keeps it exact under a
 * fake clock.
 *
 * Guarantee: in any window of w ms, at most burst + perSecond * w / 1000
 * acquisitions succeed.
 */
export class TokenBucket implements Guard {
  readonly kind = "bucket" as const;
  private tokens: number;
  private last: number | undefined;
  private perMs: number;

  constructor(readonly name: string, private rate: number, private size: number) {
    check(name, rate, size);
    this.tokens = size;
    this.perMs = rate / 1000;
  }

  get perSecond(): number {
    return this.rate;
  }

  get burst(): number {
    return this.size;
  }

  /** Lowers the rate and the burst to these where they are lower (a stricter declaration of the same bucket). */
  tighten(perSecond: number, burst: number): void {
    check(this.name, perSecond, burst);
    this.rate = Math.min(this.rate, perSecond);
    this.perMs = this.rate / 1000;
    this.size = Math.min(this.size, burst);
    this.tokens = Math.min(this.tokens, this.size);
  }

  get capacity(): number {
    return this.burst;
  }

  private refill(now: number): void {
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
    }
    if (this.last === undefined || now > this.last) this.last = now;
  }

  tryAcquire(amount: number, now: number): boolean {
    this.refill(now);
    // A hair of tolerance so a timer that fires exactly at readyAt succeeds
    // despite floating-point error in the refill product.
    if (this.tokens + 1e-9 < amount) return false;
    this.tokens = Math.max(0, this.tokens - amount);
    return true;
  }

  release(): void {}

  available(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens + 1e-9);
  }

  readyAt(amount: number, now: number): number {
    this.refill(now);
    if (this.tokens + 1e-9 >= amount) return now;
    return now + (amount - this.tokens) / this.perMs;
  }
}

function check(name: string, perSecond: number, burst: number): void {
  if (!(perSecond > 0)) throw new RangeError(`TokenBucket ${name}: per_second must be > 0, got ${perSecond}`);
  if (!(burst >= 1)) throw new RangeError(`TokenBucket ${name}: burst must be >= 1, got ${burst}`);
}
