import type { Guard } from "./guard.ts";

/** How often available memory is re-read while instances wait for it. */
export const MEM_POLL_MS = 100;
/** Reads are cached this long, so 100,000 admissions do not read /proc 100,000 times. */
const CACHE_MS = 25;

/**
 * Admission by free memory, like GNU parallel's --memfree: no new instance
 * starts while available memory is below `minFree` bytes. It holds nothing,
 * so release() does nothing; a refused instance is looked at again every
 * MEM_POLL_MS. When nothing at all is running it admits anyway: waiting
 * cannot free memory that no instance of ours is using, and a run must
 * always make progress.
 */
export class MemFreeGuard implements Guard {
  readonly name = "mem_free";
  readonly kind = "mem" as const;
  readonly capacity = 1;
  private cached = 0;
  private cachedAt = -Infinity;

  constructor(
    readonly minFree: number,
    private readonly readAvailable: () => number,
    private readonly isIdle: () => boolean,
  ) {}

  private availableBytes(now: number): number {
    if (now - this.cachedAt > CACHE_MS) {
      this.cached = this.readAvailable();
      this.cachedAt = now;
    }
    return this.cached;
  }

  tryAcquire(_amount: number, now: number): boolean {
    return this.available(now) >= 1;
  }

  release(): void {}

  available(now: number): number {
    return this.availableBytes(now) >= this.minFree || this.isIdle() ? 1 : 0;
  }

  readyAt(_amount: number, now: number): number {
    return this.available(now) >= 1 ? now : now + MEM_POLL_MS;
  }
}
