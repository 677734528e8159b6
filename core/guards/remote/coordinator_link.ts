/**
 * The shared guards' link to the coordinator: two connections (commands, and
 * pub/sub for "room appeared" messages), the Lua scripts, and the link's
 * health. A failed command puts the link "down": it is probed until it
 * answers again or `graceMs` has passed, and then it is "lost" for good
 * (onLost): the run must start nothing more.
 */
import type { Redis } from "ioredis";
import { connectCoordinator, type CoordinatorAddress } from "../../coordinator/connection.ts";
import { describeError } from "../../errors.ts";
import type { Clock } from "../../runtime/clock.ts";
import { BUCKET_REFUND, BUCKET_TAKE, LOCK_ACQUIRE, LOCK_RELEASE, LOCK_RENEW } from "./scripts.ts";

const SCRIPTS = {
  fanoutLockAcquire: { keys: 2, lua: LOCK_ACQUIRE },
  fanoutLockRelease: { keys: 2, lua: LOCK_RELEASE },
  fanoutLockRenew: { keys: 2, lua: LOCK_RENEW },
  fanoutBucketTake: { keys: 1, lua: BUCKET_TAKE },
  fanoutBucketRefund: { keys: 1, lua: BUCKET_REFUND },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** Said in the run's event log (level, text). */
export type Report = (level: "info" | "warn" | "error", message: string) => void;

export interface LinkOptions {
  clock: Clock;
  /** How long the link may stay down before it is lost. */
  graceMs: number;
  /** How often a down link is probed, and the longest a waiter waits without a message. */
  pollMs: number;
  /** The longest one command may take before it counts as failed. */
  commandTimeoutMs: number;
}

/** The coordinator could not be reached at all (start-up) — cli.ts turns it into exit 2. */
export class LinkLostError extends Error {
  override name = "LinkLostError";
}

export class CoordinatorLink {
  private state: "up" | "down" | "lost" = "up";
  private closed = false;
  private downSince = 0;
  private lastError = "";
  private probe: unknown;
  private readonly roomWaiters = new Map<string, Set<() => void>>();
  private readonly subscribed = new Map<string, Promise<void>>();
  /** "room" messages seen per channel: a waiter that saw N before its ask does not sleep through message N+1. */
  private readonly rooms = new Map<string, number>();
  /** Told when the link is lost for good; set by the owner. */
  onLost: (message: string) => void = () => {};
  /** Told when a down link answers again (leases must be checked: the server may have restarted). */
  onBack: () => void = () => {};
  report: Report = () => {};

  private constructor(
    readonly address: CoordinatorAddress,
    private readonly client: Redis,
    private readonly subscriber: Redis,
    private readonly o: LinkOptions,
  ) {
    subscriber.on("message", (channel: string) => this.wakeRoom(channel));
  }

  /** Connects both connections; throws (the caller says which address) when the server does not answer. */
  static async open(address: CoordinatorAddress, o: LinkOptions): Promise<CoordinatorLink> {
    // At start a refused connection is an answer: no retries. Once running, reconnect (below).
    const options = { retryStrategy: () => null, commandTimeout: o.commandTimeoutMs };
    const client = await connectCoordinator(address, options);
    let subscriber: Redis;
    try {
      subscriber = await connectCoordinator(address, options);
    } catch (error) {
      client.disconnect();
      throw error;
    }
    for (const c of [client, subscriber]) c.options.retryStrategy = (times: number) => Math.min(50 * times, 500);
    for (const [name, { keys, lua }] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: keys, lua });
    return new CoordinatorLink(address, client, subscriber, o);
  }

  /** True while new shares may be sought and handed out. */
  get usable(): boolean {
    return this.state === "up" && !this.closed;
  }

  get lost(): boolean {
    return this.state === "lost";
  }

  /** Runs one script (one round trip). A failure puts the link down and is rethrown. */
  async run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    if (this.state === "lost") throw new LinkLostError(`the coordinator ${this.address.display} is lost`);
    try {
      const call = (this.client as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<unknown>>)[name];
      return await call.call(this.client, ...keys, ...args);
    } catch (error) {
      this.down(error);
      throw error;
    }
  }

  /** How many "room" messages came on `channel` so far: read before an ask, given to waitForRoom after it. */
  roomsSeen(channel: string): number {
    return this.rooms.get(channel) ?? 0;
  }

  /**
   * Resolves when a "room" message comes on `channel` — at once if one came
   * since `seen` (roomsSeen before the refused ask) — after `ms` at the
   * latest (the polling fallback, and the wait for a refill or an expiry),
   * or at once when the link is lost.
   */
  waitForRoom(channel: string, ms: number, seen = this.roomsSeen(channel)): Promise<void> {
    if (this.state === "lost" || this.closed || this.roomsSeen(channel) > seen) return Promise.resolve();
    void this.subscribe(channel);
    return new Promise((resolve) => {
      let waiters = this.roomWaiters.get(channel);
      if (!waiters) this.roomWaiters.set(channel, (waiters = new Set()));
      const done = () => {
        this.o.clock.clearTimer(timer);
        waiters!.delete(done);
        resolve();
      };
      const timer = this.o.clock.setTimer(done, Math.max(1, ms));
      waiters.add(done);
    });
  }

  /** Subscribes once per channel; resolves when the server has confirmed (or refused: the poll covers that). */
  subscribe(channel: string): Promise<void> {
    let done = this.subscribed.get(channel);
    if (!done) {
      // Refused while the link is down: the poll covers it; ioredis resubscribes after a reconnect.
      done = this.subscriber.subscribe(channel).then(() => {}, () => void this.subscribed.delete(channel));
      this.subscribed.set(channel, done);
    }
    return done;
  }

  private wakeRoom(channel: string): void {
    this.rooms.set(channel, this.roomsSeen(channel) + 1);
    for (const done of [...(this.roomWaiters.get(channel) ?? [])]) done();
  }

  private wakeAll(): void {
    for (const channel of this.roomWaiters.keys()) this.wakeRoom(channel);
  }

  /** A command failed: probe until the server answers, or give up after graceMs. */
  private down(error: unknown): void {
    this.lastError = describeError(error);
    if (this.state !== "up") return;
    this.state = "down";
    this.downSince = this.o.clock.now();
    this.report("warn", `coordinator ${this.address.display}: ${this.lastError}; nothing new starts while it is away (at most ${Math.round(this.o.graceMs)} ms)`);
    this.probe = this.o.clock.setTimer(() => this.tryProbe(), this.o.pollMs);
  }

  private async tryProbe(): Promise<void> {
    this.probe = undefined;
    if (this.state !== "down") return;
    try {
      await this.client.ping();
      this.state = "up";
      this.report("info", `coordinator ${this.address.display} answers again after ${Math.round(this.o.clock.now() - this.downSince)} ms`);
      this.onBack();
      this.wakeAll();
      return;
    } catch (error) {
      this.lastError = describeError(error);
    }
    if (this.o.clock.now() - this.downSince >= this.o.graceMs) {
      this.state = "lost";
      this.wakeAll();
      this.onLost(`lost the coordinator ${this.address.display}: no answer for ${Math.round(this.o.clock.now() - this.downSince)} ms (${this.lastError})`);
      return;
    }
    this.probe = this.o.clock.setTimer(() => this.tryProbe(), this.o.pollMs);
  }

  /** Closes both connections; `quit` lets commands already sent finish. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.probe !== undefined) this.o.clock.clearTimer(this.probe);
    this.probe = undefined;
    this.wakeAll();
    for (const c of [this.subscriber, this.client]) {
      if (this.state === "up") await c.quit().catch(() => c.disconnect());
      else c.disconnect();
    }
  }
}
