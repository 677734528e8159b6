/**
 * A few worker threads that start children for the main thread (Bun only;
 * see spawn_worker.ts for why). Workers start on first use and the pool grows,
 * up to MAX_WORKERS, while every worker is busy. A worker holds the process
 * open only while it has children running. If workers cannot start (a build
 * without the worker entry, say), run() reports it and callers spawn
 * directly: the pool is an optimisation, never a requirement.
 */
import { availableParallelism } from "node:os";
import process from "node:process";
import type { SpawnReply, SpawnRequest } from "./bun_spawn.ts";
import type { WorkerMessage } from "./spawn_worker.ts";

const MAX_WORKERS = Math.min(8, Math.max(2, 2 * availableParallelism()));

/** Thrown by run() when no worker can be had: spawn on the calling thread instead. */
export class WorkersUnavailable extends Error {
  override name = "WorkersUnavailable";
}

/** Bun's Worker can be kept from holding the process open; the DOM type does not say so. */
type BunWorker = Worker & { ref(): void; unref(): void };

interface Slot {
  worker: BunWorker;
  ready: Promise<boolean>;
  inFlight: number;
}

interface Pending {
  slot: Slot;
  onPid(pid: number): void;
  resolve(reply: SpawnReply): void;
  reject(error: Error): void;
}

class SpawnPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private broken = false;

  async run(req: SpawnRequest, onPid: (pid: number) => void): Promise<SpawnReply> {
    if (this.broken) throw new WorkersUnavailable();
    const slot = this.pick();
    // Counted (and so holding the process open) from here: awaiting a worker's
    // start-up must not let the program exit under a pending request.
    this.busy(slot, +1);
    if (!(await slot.ready)) {
      this.busy(slot, -1);
      throw new WorkersUnavailable();
    }
    const id = this.nextId++;
    return await new Promise<SpawnReply>((resolve, reject) => {
      this.pending.set(id, { slot, onPid, resolve, reject });
      slot.worker.postMessage({ id, req });
    });
  }

  private busy(slot: Slot, delta: 1 | -1): void {
    slot.inFlight += delta;
    if (delta === 1 && slot.inFlight === 1) slot.worker.ref();
    if (slot.inFlight === 0) slot.worker.unref();
  }

  /** The least busy worker, or a new one when all are busy and there is room. */
  private pick(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.inFlight < best.inFlight) best = s;
    if (best && (best.inFlight === 0 || this.slots.length >= MAX_WORKERS)) return best;
    return this.start();
  }

  private start(): Slot {
    const worker = new Worker(new URL("./spawn_worker.ts", import.meta.url).href) as BunWorker;
    let markReady: (ok: boolean) => void = () => {};
    const slot: Slot = { worker, ready: new Promise((r) => (markReady = r)), inFlight: 0 };
    worker.onmessage = (e: MessageEvent) => this.onMessage(slot, e.data as WorkerMessage, markReady);
    worker.onerror = () => {
      // A worker that cannot load is a build without its entry: stop using workers.
      this.broken = true;
      markReady(false);
    };
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private onMessage(slot: Slot, msg: WorkerMessage, markReady: (ok: boolean) => void): void {
    if (msg.kind === "ready") return markReady(true);
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.kind === "pid") return p.onPid(msg.pid);
    this.pending.delete(msg.id);
    this.busy(slot, -1);
    if (msg.kind === "exit") p.resolve(msg.reply);
    else p.reject(Object.assign(new Error(msg.message), { code: msg.code }));
  }
}

let pool: SpawnPool | undefined;

/** The process's spawn pool; FANOUT_SPAWN_WORKERS=0 turns it off. */
export function spawnPool(): SpawnPool | undefined {
  if (process.env.FANOUT_SPAWN_WORKERS === "0") return undefined;
  return (pool ??= new SpawnPool());
}
