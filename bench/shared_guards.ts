/**
 * Shared guards' overhead: the same plan run in-process and with
 * `--coordinator` (a redis-server on a loopback port, started here), through
 * the CLI, alternating (local, remote, local, …) so that a change in the
 * machine's load falls on both; medians compared.
 *
 * The module does nothing, so what is measured is the guards' own cost per
 * instance — at its most visible:
 * - hosts: host_exclusive over 50 hosts, 64 at once: each instance takes a
 *   lease and gives it back (two scripts), many in flight at once.
 * - serial: global_exclusive, one at a time: each instance waits for the
 *   previous one's release to reach Redis and its own grant to come back —
 *   the round-trip latency, unhidden.
 * - rated: rate_limited at a rate that never binds: one script per token.
 *
 * Figures: the run's span (first start to last end) per instance, local and
 * remote, and their difference; the whole process's wall time (start-up with
 * the connection included); round trips per acquisition from run_end.
 *
 * Goal: the `hosts` workload's overhead < 1 ms per instance.
 */
import { startRedis } from "../core/test_redis.ts";
import { type CliRun, r, report, runFanout, scaled, scratchDir, writeFile } from "./lib.ts";

const GOAL_MS_PER_INSTANCE = 1;
const ROUNDS = Number(process.env.FANOUT_BENCH_ROUNDS ?? 3);

const NOOP_PLUGIN = `export const parallelizationHint = "fully_parallel";
export default function run() {}
`;

function writePlans(dir: string) {
  writeFile(dir, "noop.ts", NOOP_PLUGIN);
  const hostsN = 50;
  const perHost = scaled(40, 2);
  const serialN = scaled(500, 20);
  const ratedN = scaled(2000, 50);
  const items = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(", ")}]`;
  const hosts = writeFile(dir, "hosts.yml", `version: 1
name: shared-hosts
parallelism: 64
hosts: [${Array.from({ length: hostsN }, (_, i) => `h${i}`).join(", ")}]
plugins: { noop: ./noop.ts }
tasks:
  - { name: step, module: noop, hint: host_exclusive, items: ${items(perHost)} }
`);
  const serial = writeFile(dir, "serial.yml", `version: 1
name: shared-serial
parallelism: 8
plugins: { noop: ./noop.ts }
tasks:
  - { name: step, module: noop, hint: { kind: global_exclusive, group: bench }, items: ${items(serialN)} }
`);
  const rated = writeFile(dir, "rated.yml", `version: 1
name: shared-rated
parallelism: 64
plugins: { noop: ./noop.ts }
tasks:
  - { name: step, module: noop, hint: { kind: rate_limited, per_second: 1000000000, burst: 1000000, key: bench }, items: ${items(ratedN)} }
`);
  return { hosts: { plan: hosts, n: hostsN * perHost }, serial: { plan: serial, n: serialN }, rated: { plan: rated, n: ratedN } };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Guards {
  [name: string]: { round_trips?: { p50: number; p99: number }; remote?: boolean };
}

function roundTrips(run: CliRun): { p50: number; p99: number } | undefined {
  const guards = (run.runEnd.summary as unknown as { guards: Guards }).guards;
  const shared = Object.values(guards).find((g) => g.remote);
  return shared?.round_trips && { p50: shared.round_trips.p50, p99: shared.round_trips.p99 };
}

const dir = scratchDir("shared_guards");
const plans = writePlans(dir);
const redis = await startRedis();
try {
  const results: Record<string, unknown> = {};
  let hostsOverhead = Infinity;
  for (const [name, { plan, n }] of Object.entries(plans)) {
    const local: CliRun[] = [];
    const remote: CliRun[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      local.push(runFanout(plan, ["--no-journal"]));
      remote.push(runFanout(plan, ["--no-journal", "--coordinator", redis.url, "--coordinator-prefix", `bench${i}:`]));
    }
    const spanLocal = median(local.map((x) => x.spanMs)) / n;
    const spanRemote = median(remote.map((x) => x.spanMs)) / n;
    const overhead = spanRemote - spanLocal;
    if (name === "hosts") hostsOverhead = overhead;
    results[name] = {
      instances: n,
      local_ms_per_instance: r(spanLocal, 4),
      remote_ms_per_instance: r(spanRemote, 4),
      overhead_ms_per_instance: r(overhead, 4),
      wall_s_local: r(median(local.map((x) => x.wallS))),
      wall_s_remote: r(median(remote.map((x) => x.wallS))),
      round_trips: roundTrips(remote[remote.length - 1]!),
    };
  }
  report("shared_guards", {
    rounds: ROUNDS,
    workloads: results,
    goal: `host_exclusive overhead < ${GOAL_MS_PER_INSTANCE} ms per instance`,
    goal_met: hostsOverhead < GOAL_MS_PER_INSTANCE,
  });
} finally {
  await redis.stop();
}
