/**
 * Distribution overhead: the same plan run locally and through a coordinator
 * (a real redis-server on a loopback port), wall time of the whole submitter
 * process. Runs alternate so that a change in the machine's load falls on
 * every mode; medians are compared.
 *
 * Modes, each with 8 forks in all:
 * - local: `fanout run`, no coordinator;
 * - distributed: `--distribute`, the submitter running its share itself
 *   (every instance goes through the queue, the claim and the report);
 * - worker: `--distribute --no-local` with one `fanout worker --forks 8`
 *   started beforehand (the worker's start is not counted).
 *
 * Workload: a no-op plugin, so nothing but fanout's own cost is measured;
 * the difference per instance is the price of a Redis round trip or three
 * (dispatch, claim, report) on this machine. No goal: reported as a figure.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { startRedis } from "../core/test_redis.ts";
import { fanoutArgv, r, report, scaled, scratchDir, timeCommand, writeNoopPlan } from "./lib.ts";

const ROUNDS = Number(process.env.FANOUT_BENCH_ROUNDS ?? 3);
const total = scaled(2000, 100);
const dir = scratchDir("distribute");
const plan = writeNoopPlan(dir, "distribute-noop", total, 8);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const redis = await startRedis();
const { argv } = fanoutArgv();
const worker: ChildProcess = spawn(argv[0]!, [...argv.slice(1), "worker", "--coordinator", redis.url, "--forks", "8", "--name", "bench"], { stdio: "ignore" });
try {
  const base = [...argv, "run", plan, "-q", "--no-journal"];
  const times = { local: [] as number[], distributed: [] as number[], worker: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    times.local.push(timeCommand(base, { cwd: dir }));
    // The worker takes part in this one too: it is waiting on the same coordinator.
    times.distributed.push(timeCommand([...base, "--coordinator", redis.url, "--distribute"], { cwd: dir }));
    times.worker.push(timeCommand([...base, "--coordinator", redis.url, "--distribute", "--no-local"], { cwd: dir }));
  }
  const local = median(times.local);
  const perInstance = (s: number) => r(((s - local) * 1e6) / total, 1);
  report("distribute_overhead", {
    instances: total,
    rounds: ROUNDS,
    local_s: r(local),
    distributed_s: r(median(times.distributed)),
    worker_s: r(median(times.worker)),
    distributed_us_per_instance: perInstance(median(times.distributed)),
    worker_us_per_instance: perInstance(median(times.worker)),
    goal: null,
    goal_met: null,
  });
} finally {
  worker.kill("SIGTERM");
  await redis.stop();
}
