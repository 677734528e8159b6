/**
 * Publishing a run (the submitter) and loading a published one (a worker).
 *
 * The plan goes as its text, with the submitter's path and `--var`s, so a
 * worker loads the same tasks, hints and templates. Each plugin goes as its
 * bundle (core/runtime/bundle_plugin.ts: the plugin and its npm packages in
 * one file), stored once under the hash of its code: a worker imports that
 * bundle in place of the submitter's path, so it runs exactly the code the
 * submitter loaded, whatever is installed on the worker's machine. Under
 * Deno, which cannot bundle, the plugin's own file goes (a plugin with
 * imports of its own then needs them on the worker too).
 *
 * Instances are not derived again on a worker: each dispatch carries its
 * id, task, host and item as the submitter resolved them (items_from globs
 * are the submitter's).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { PluginError } from "../errors.ts";
import { loadPlanText } from "../plan/load.ts";
import type { Plan } from "../plan/plan.ts";
import { realClock } from "../runtime/clock.ts";
import { substitutePlugin } from "../runtime/import_plugin.ts";
import { isBun } from "../runtime/runtime.ts";
import { randomToken, sha256 } from "../runtime/sha256.ts";
import { bundleKey, GROUP, type Report, type RunKeys, runKeys, runsKey, type RunSpec, specTtlMs } from "./protocol.ts";

/** How long a run's keys outlive it (for a late worker to see it is over; then Redis drops them). */
const KEEP_S = 600;

/** The plugin files a plan's tasks (and race alternatives) use. */
function pluginFiles(plan: Plan): string[] {
  const sources = plan.tasks.flatMap((t) => [t, ...(t.race ?? [])]).map((t) => t.module.source);
  return [...new Set(sources.filter((s) => !s.startsWith("builtin:")))];
}

async function bundleCode(file: string): Promise<string> {
  if (!isBun) return readFileSync(file, "utf8");
  const { buildBundle } = await import("../runtime/bundle_plugin.ts");
  try {
    return (await buildBundle(file)).code;
  } catch (error) {
    throw new PluginError(file, `cannot be bundled for the workers: ${(error as Error).message}`);
  }
}

export interface PublishOptions {
  submitter: string;
  vars: Record<string, string>;
  killGraceMs?: number;
  leaseMs: number;
}

/** Publishes `plan` as a new run; workers may join it from now on. */
export async function publishRun(redis: Redis, prefix: string, plan: Plan, options: PublishOptions): Promise<{ spec: RunSpec; keys: RunKeys }> {
  // Begins with the time, so that workers serve the oldest run first by sorting ids.
  const id = `${realClock.wallTime().getTime().toString(36)}-${randomToken(6)}`;
  const plugins: Record<string, string> = {};
  for (const file of pluginFiles(plan)) {
    const code = await bundleCode(file);
    const hash = sha256(code);
    plugins[file] = hash;
    await redis.set(bundleKey(prefix, hash), code, "EX", 7 * 24 * 3600);
  }
  const spec: RunSpec = { id, submitter: options.submitter, plan: { file: plan.file, text: plan.text }, vars: options.vars, plugins, killGraceMs: options.killGraceMs, leaseMs: options.leaseMs };
  const keys = runKeys(prefix, id);
  await redis.multi()
    .set(keys.spec, JSON.stringify(spec), "PX", specTtlMs(spec.leaseMs))
    .xgroup("CREATE", keys.queue, GROUP, "$", "MKSTREAM")
    .sadd(runsKey(prefix), id)
    .exec();
  return { spec, keys };
}

/** The submitter is alive: the run's spec lives on. */
export async function renewRun(redis: Redis, keys: RunKeys, spec: RunSpec): Promise<void> {
  await redis.pexpire(keys.spec, specTtlMs(spec.leaseMs));
}

/** Tells the submitter this runner cannot serve the run, and why. */
export async function refuseRun(redis: Redis, keys: RunKeys, runner: string, error: string): Promise<void> {
  const report: Report = { kind: "refused", runner, error };
  await redis.xadd(keys.reports, "*", "r", JSON.stringify(report));
}

/** Whether the run is over: cancelled or ended by its submitter, or its submitter gone (the spec expired). */
export async function runIsOver(redis: Redis, keys: RunKeys): Promise<boolean> {
  const [[, cancelled], [, spec]] = await redis.multi().exists(keys.cancel).exists(keys.spec).exec() as [unknown, number][];
  return cancelled === 1 || spec === 0;
}

/** Marks the run over (workers leave it) and lets its keys expire. */
export async function endRun(redis: Redis, prefix: string, keys: RunKeys, id: string, why: "ended" | "cancelled"): Promise<void> {
  await redis.multi()
    .set(keys.cancel, why, "EX", KEEP_S)
    .srem(runsKey(prefix), id)
    .expire(keys.spec, KEEP_S)
    .expire(keys.queue, KEEP_S)
    .expire(keys.reports, KEEP_S)
    .expire(keys.aborts, KEEP_S)
    .exec();
}

/** The run's spec, or undefined when it is gone or over. */
export async function readSpec(redis: Redis, prefix: string, id: string): Promise<RunSpec | undefined> {
  const keys = runKeys(prefix, id);
  const [[, text], [, over]] = await redis.multi().get(keys.spec).exists(keys.cancel).exec() as [unknown, unknown][];
  return typeof text === "string" && over === 0 ? JSON.parse(text) as RunSpec : undefined;
}

/** A published run's plan, loaded here with the submitter's plugin bundles. */
export async function loadRun(redis: Redis, prefix: string, spec: RunSpec): Promise<{ plan: Plan; planDir: string }> {
  const dir = join(tmpdir(), "fanout-bundles");
  mkdirSync(dir, { recursive: true });
  for (const [path, hash] of Object.entries(spec.plugins)) {
    const file = join(dir, `${hash}.mjs`);
    if (!existsSync(file)) {
      const code = await redis.get(bundleKey(prefix, hash));
      if (code === null) throw new PluginError(path, `its bundle ${hash} is not in the coordinator`);
      // Written whole, then renamed: another worker on this machine never imports half a file.
      const part = `${file}.${process.pid}.part`;
      writeFileSync(part, code);
      renameSync(part, file);
    }
    substitutePlugin(path, file);
  }
  const plan = await loadPlanText(spec.plan.text, spec.plan.file, { vars: spec.vars });
  // Commands run in the plan's directory when this machine has it; else in one of the run's own.
  let planDir = plan.dir;
  if (!existsSync(planDir)) mkdirSync(planDir = join(tmpdir(), `fanout-run-${spec.id}`), { recursive: true });
  return { plan, planDir };
}
