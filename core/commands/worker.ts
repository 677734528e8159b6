/**
 * `fanout worker --coordinator URL [--forks N] [--name W]`: waits for runs
 * published with `fanout run --distribute` and runs their ready instances,
 * one run at a time (the oldest first), until stopped (Ctrl-C, SIGTERM).
 * Says on stderr which runs it joins and leaves.
 */
import type { Redis } from "ioredis";
import { availableParallelism } from "node:os";
import { type CoordinatorAddress, connectCoordinator, parseCoordinator } from "../coordinator/connection.ts";
import { runKeys, runsKey } from "../distribute/protocol.ts";
import { loadRun, readSpec, refuseRun } from "../distribute/publish.ts";
import { RunWorker } from "../distribute/run_worker.ts";
import { runnerName } from "../distribute/submit.ts";
import { describeError, UsageError } from "../errors.ts";
import { delay } from "../runtime/clock.ts";
import { writeStderr } from "../runtime/stderr.ts";

export interface WorkerFlags {
  coordinator?: unknown;
  forks?: unknown;
  name?: unknown;
}

/** How often an idle worker looks for a new run. */
const IDLE_POLL_MS = 200;

function parseFlags(flags: WorkerFlags): { address: CoordinatorAddress; forks: number; name: string } {
  if (typeof flags.coordinator !== "string") throw new UsageError("worker: --coordinator redis://host:port is required: the Redis that runs are published on");
  const address = parseCoordinator(flags.coordinator);
  if (typeof address === "string") throw new UsageError(`--coordinator: ${address}`);
  const forks = flags.forks === undefined ? availableParallelism() : Number(flags.forks);
  if (!Number.isInteger(forks) || forks < 1) throw new UsageError(`--forks: expected a whole number >= 1, got ${JSON.stringify(flags.forks)}`);
  if (flags.name !== undefined && (typeof flags.name !== "string" || flags.name === "")) throw new UsageError(`--name: expected a runner name, got ${JSON.stringify(flags.name)}`);
  return { address, forks, name: runnerName(flags.name as string | undefined) };
}

export async function workerAction(flags: WorkerFlags, signal: AbortSignal): Promise<number> {
  const { address, forks, name } = parseFlags(flags);
  const open = async (options = {}) => {
    try {
      return await connectCoordinator(address, options);
    } catch (error) {
      throw new UsageError(`cannot reach the coordinator ${address.display}: ${(error as Error).message}`);
    }
  };
  // Commands of many instances in one tick go as one write.
  const redis = await open({ enableAutoPipelining: true });
  const blocking = await open();
  writeStderr(`fanout worker ${name}: waiting for runs on ${address.display} (forks ${forks})\n`);
  /** Runs this worker could not load: not tried again. */
  const refused = new Set<string>();
  try {
    while (!signal.aborted) {
      const id = await nextRun(redis, address.prefix, refused);
      if (id === undefined) {
        await delay(IDLE_POLL_MS, signal).catch(() => {});
        continue;
      }
      try {
        await serveRun(redis, blocking, address.prefix, id, { forks, name, signal }, refused);
      } catch (error) {
        // The coordinator went away: what ran is abandoned (its leases run out and others take it over); try again.
        writeStderr(`fanout worker ${name}: run ${id}: ${describeError(error)}; retrying\n`);
        await delay(1000, signal).catch(() => {});
      }
    }
  } finally {
    redis.disconnect();
    blocking.disconnect();
  }
  writeStderr(`fanout worker ${name}: stopped\n`);
  return 0;
}

async function nextRun(redis: Redis, prefix: string, refused: Set<string>): Promise<string | undefined> {
  // Ids begin with the time they were published (base 36, same length for centuries): sorted, the oldest first.
  const ids = (await redis.smembers(runsKey(prefix))).filter((id) => !refused.has(id)).sort();
  return ids[0];
}

async function serveRun(redis: Redis, blocking: Redis, prefix: string, id: string, o: { forks: number; name: string; signal: AbortSignal }, refused: Set<string>): Promise<void> {
  const spec = await readSpec(redis, prefix, id);
  if (!spec) return void refused.add(id);
  let loaded;
  try {
    loaded = await loadRun(redis, prefix, spec);
  } catch (error) {
    refused.add(id);
    const why = describeError(error);
    writeStderr(`fanout worker ${o.name}: cannot load run ${id} from ${spec.submitter}: ${why}\n`);
    await refuseRun(redis, runKeys(prefix, id), o.name, why);
    return;
  }
  const worker = new RunWorker({ redis, blocking, keys: runKeys(prefix, id), spec, plan: loaded.plan, name: o.name, forks: o.forks, planDir: loaded.planDir, signal: o.signal });
  writeStderr(`fanout worker ${o.name}: joined run ${id} of ${spec.submitter} (${loaded.plan.name}; ${worker.describeTokens()})\n`);
  await worker.serve();
  refused.add(id);
  writeStderr(`fanout worker ${o.name}: left run ${id}\n`);
}
