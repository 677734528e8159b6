/**
 * A host lock or global lock shared through the coordinator: each unit of
 * its share is a lease with a TTL, renewed while held (SharedGuards), so a
 * runner that dies without a word frees its leases within the TTL.
 *
 * Limits: a lease is asked for under the strictest limit this runner declared
 * for the key, and the coordinator grants it only while the holders of all
 * runners stay within every holder's limit. Within one runner that is
 * stricter than the in-process lock (two declarations of one key share the
 * strictest limit): never looser.
 */
import { type ShareContext, RemoteShare, type Unit } from "./remote_share.ts";

export class RemoteLock extends RemoteShare {
  /** Leases held by local instances. */
  private readonly inUse: Unit[] = [];
  private widest: number;
  private strictest: number;
  renewals = 0;
  lost = 0;

  constructor(name: string, readonly kind: "host" | "global", limit: number, cx: ShareContext, private readonly ttlMs: number) {
    super(name, cx);
    if (!(limit >= 1)) throw new RangeError(`RemoteLock ${name}: limit must be >= 1, got ${limit}`);
    this.widest = this.strictest = limit;
  }

  get capacity(): number {
    return this.widest;
  }

  /** The limit every lease of this runner is asked under. */
  get limit(): number {
    return this.strictest;
  }

  declare(limit: number): void {
    if (!(limit >= 1)) throw new RangeError(`RemoteLock ${this.name}: limit must be >= 1, got ${limit}`);
    this.widest = Math.max(this.widest, limit);
    this.strictest = Math.min(this.strictest, limit);
  }

  private get keys(): string[] {
    return [this.key, `${this.key}:limits`];
  }

  /** One lease per call: a lock's holders are few. */
  protected async ask(): Promise<true | number> {
    const id = this.cx.newId();
    const r = Number(await this.cx.link.run("fanoutLockAcquire", this.keys, [id, this.strictest, this.ttlMs]));
    if (r !== 1) return r === -1 ? Infinity : -r;
    this.free.push({ id, since: this.cx.now() });
    return true;
  }

  protected async giveBack(units: Unit[]): Promise<void> {
    await this.cx.link.run("fanoutLockRelease", this.keys, [this.channel, ...units.map((u) => u.id)]);
  }

  protected taken(unit: Unit): void {
    this.inUse.push(unit);
  }

  release(amount: number): void {
    if (amount > this.inUse.length) throw new Error(`Internal error: ${this.name} released ${amount} but holds ${this.inUse.length}`);
    for (let i = 0; i < amount; i++) this.returned(this.inUse.pop()!);
  }

  /** Every lease this runner holds (in use or in the share): what renewal extends. */
  leaseIds(): string[] {
    return [...this.inUse.filter((u) => !u.lost), ...this.free].map((u) => u.id);
  }

  /**
   * Extends every lease held; returns how many of those held by running
   * instances were gone (expired, or the server restarted without them).
   * Leases gone from the share are simply dropped.
   */
  async renew(): Promise<{ lostInUse: number; lostFree: number }> {
    const ids = this.leaseIds();
    if (ids.length === 0) return { lostInUse: 0, lostFree: 0 };
    const lost = new Set((await this.cx.link.run("fanoutLockRenew", this.keys, [this.ttlMs, ...ids])) as string[]);
    this.renewals += ids.length - lost.size;
    if (lost.size === 0) return { lostInUse: 0, lostFree: 0 };
    this.lost += lost.size;
    const before = this.free.length;
    for (let i = this.free.length - 1; i >= 0; i--) if (lost.has(this.free[i]!.id)) this.free.splice(i, 1);
    const lostFree = before - this.free.length;
    for (const unit of this.inUse) if (lost.has(unit.id)) unit.lost = true;
    return { lostInUse: lost.size - lostFree, lostFree };
  }
}
