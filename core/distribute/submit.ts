/**
 * `fanout run --coordinator URL --distribute`: the submitter's wiring. It
 * publishes the run, hands its scheduler a dispatcher (whose calls go to the
 * run's queue), serves the queue itself unless --no-local, and when the run
 * ends — or is cancelled — tells every worker so.
 */
import { hostname } from "node:os";
import process from "node:process";
import type { Redis } from "ioredis";
import type { CallMaker } from "../attempt.ts";
import { type CoordinatorAddress, connectCoordinator } from "../coordinator/connection.ts";
import { UsageError } from "../errors.ts";
import type { PoolOverrides } from "../machine.ts";
import type { Plan } from "../plan/plan.ts";
import type { FanoutEvent } from "../telemetry/events.ts";
import { Dispatcher } from "./dispatcher.ts";
import { every } from "./every.ts";
import { endRun, publishRun, renewRun } from "./publish.ts";
import { RunWorker } from "./run_worker.ts";

export { DEFAULT_IN_FLIGHT, DEFAULT_LEASE_MS } from "./limits.ts";

export interface DistributeOptions {
  coordinator: CoordinatorAddress;
  /** --no-local: the submitter runs nothing itself. */
  local: boolean;
  leaseMs: number;
  /** This runner's name (default host:pid). */
  name?: string;
}

export interface Distribution {
  runId: string;
  emit: (event: FanoutEvent) => void;
  makeCall: CallMaker;
  /** Ends the run on every worker; waits for the local share to wind down. */
  close(why: "ended" | "cancelled"): Promise<void>;
}

export function runnerName(name?: string): string {
  return name ?? `${hostname()}:${process.pid}`;
}

async function connect(address: CoordinatorAddress, options = {}): Promise<Redis> {
  try {
    return await connectCoordinator(address, options);
  } catch (error) {
    throw new UsageError(`cannot reach the coordinator ${address.display}: ${(error as Error).message}`);
  }
}

export async function distribute(plan: Plan, o: DistributeOptions & {
  vars: Record<string, string>;
  killGraceMs?: number;
  /** Forks of the local share. */
  forks: number;
  /** --cpu-tokens, --io-tokens, --storage-type: they size the local share's pools, as in a local run. */
  pools?: PoolOverrides;
  emit: (event: FanoutEvent) => void;
  startedAt: number;
  signal?: AbortSignal;
}): Promise<Distribution> {
  const name = runnerName(o.name);
  const prefix = o.coordinator.prefix;
  const redis = await connect(o.coordinator, { enableAutoPipelining: true });
  const connections = [redis, await connect(o.coordinator)];
  let published;
  try {
    published = await publishRun(redis, prefix, plan, { submitter: name, vars: o.vars, killGraceMs: o.killGraceMs, leaseMs: o.leaseMs });
  } catch (error) {
    for (const c of connections) c.disconnect();
    throw error;
  }
  const { spec, keys } = published;
  // The spec expires unless renewed: workers leave a run whose submitter died.
  const renewal = every(spec.leaseMs / 3, () => renewRun(redis, keys, spec));
  const dispatcher = new Dispatcher({ redis, blocking: connections[1]!, keys, spec, address: o.coordinator.display, emit: o.emit, startedAt: o.startedAt });
  // Ctrl-C: every worker stops the run's instances now, not when each attempt's abort reaches it.
  const onAbort = () => void endRun(redis, prefix, keys, spec.id, "cancelled").catch(() => {});
  o.signal?.addEventListener("abort", onAbort, { once: true });
  let local: Promise<void> | undefined;
  if (o.local) {
    const blocking = await connect(o.coordinator);
    connections.push(blocking);
    const worker = new RunWorker({ redis, blocking, keys, spec, plan, name, forks: o.forks, pools: o.pools, planDir: plan.dir });
    local = worker.serve().catch(() => {});
  }
  return {
    runId: spec.id,
    emit: dispatcher.emit,
    makeCall: dispatcher.makeCall,
    async close(why) {
      renewal.stop();
      o.signal?.removeEventListener("abort", onAbort);
      await endRun(redis, prefix, keys, spec.id, why).catch(() => {});
      await local;
      await dispatcher.close();
      for (const c of connections) c.disconnect();
    },
  };
}
