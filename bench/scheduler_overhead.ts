/**
 * Scheduler overhead: 100,000 instances of a module that does nothing, so
 * what is measured is fanout's own cost per instance (guards, queues,
 * events, summary), not the work.
 *
 * - plain: one fully_parallel task with 100,000 items.
 * - guards: the same count spread over every guard kind — host_exclusive
 *   over 100 hosts and over 250 rendered keys, rate_limited with a rate too
 *   high to bind, CPU and I/O tokens, and global_exclusive on 0.1%.
 *
 * Each runs in-process (loadPlan + runPlan with a counting sink) in its own
 * child process, so peak RSS is that variant's alone; then the plain plan
 * runs once through the CLI (`--json` to a file) for the end-to-end figure.
 *
 * Goals: >= 100,000 instances/s plain, >= 50,000/s with guards, peak RSS
 * < 300 MB for 100,000 instances.
 */
import { spawnSync } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fanoutArgv, peakRssMb, r, report, scaled, scratchDir, writeFile } from "./lib.ts";

const GOAL_PLAIN = 100_000;
const GOAL_GUARDS = 50_000;
const GOAL_RSS_MB = 300;
const HOSTS = 100;

const NOOP_PLUGIN = `// Does nothing: what remains is the scheduler's cost.
export const parallelizationHint = "fully_parallel";
export default function run() {}
`;

/** Writes both plans; returns their paths and instance counts. */
function writePlans(dir: string) {
  writeFile(dir, "noop.ts", NOOP_PLUGIN);
  const total = scaled(100_000, 1000);
  writeFile(dir, "items_all.txt", Array.from({ length: total }, (_, i) => `i${i}`).join("\n") + "\n");
  const plain = writeFile(dir, "plain.yml", `version: 1
name: overhead-plain
parallelism: 64
plugins: { noop: ./noop.ts }
tasks:
  - name: noop
    module: noop
    items_from: { file: items_all.txt }
`);

  // Per host: 250 + 250 + 250 + 249 items; the rest (0.1%) global_exclusive on one host.
  const perHost = Math.max(2, Math.round((total * 0.999) / HOSTS / 4));
  const last = perHost - 1;
  const globalItems = Math.max(1, total - HOSTS * (3 * perHost + last));
  const items = (n: number) => Array.from({ length: n }, (_, i) => `i${i}`).join("\n") + "\n";
  writeFile(dir, "items_host.txt", items(perHost));
  writeFile(dir, "items_last.txt", items(last));
  writeFile(dir, "items_global.txt", items(globalItems));
  const hosts = Array.from({ length: HOSTS }, (_, i) => `h${i}`);
  const guards = writeFile(dir, "guards.yml", `version: 1
name: overhead-guards
parallelism: 64
hosts: [${hosts.join(", ")}]
resources: { cpu_tokens: 8, io_tokens: 16 }
plugins: { noop: ./noop.ts }
tasks:
  - name: per-host
    module: noop
    items_from: { file: items_host.txt }
    hint: host_exclusive
    resources: { cpu: 1 }
  - name: per-key
    module: noop
    items_from: { file: items_host.txt }
    hint: { kind: host_exclusive, key: "k{{ item }}", limit: 2 }
    needs: []
  - name: rated
    module: noop
    items_from: { file: items_host.txt }
    hint: { kind: rate_limited, per_second: 1000000000, burst: 1000000 }
    resources: { io: 1 }
    needs: []
  - name: tokens
    module: noop
    items_from: { file: items_last.txt }
    resources: { cpu: 1, io: 2 }
    needs: []
  - name: serial
    module: noop
    hosts: [h0]
    items_from: { file: items_global.txt }
    hint: { kind: global_exclusive, group: bench }
    needs: []
`);
  return { plain, guards, total: HOSTS * (3 * perHost + last) + globalItems, plainTotal: total };
}

/** Child mode: runs one plan in-process and prints its figures. */
async function child(plan: string): Promise<void> {
  const { loadPlan } = await import("../core/plan/load.ts");
  const { runPlan } = await import("../core/commands/run.ts");
  let ended = 0;
  let ok = 0;
  const counter = {
    write(e: { type: string; status?: string }) {
      if (e.type === "task_end") {
        ended++;
        if (e.status === "ok") ok++;
      }
    },
  };
  const t0 = performance.now();
  const loaded = await loadPlan(plan);
  const t1 = performance.now();
  const code = await runPlan(loaded, { sinks: [counter] });
  const t2 = performance.now();
  console.log(JSON.stringify({ code, ended, ok, load_ms: t1 - t0, run_ms: t2 - t1, peak_rss_mb: peakRssMb() }));
}

function inProcess(plan: string) {
  const res = spawnSync(process.execPath, ["--no-install", import.meta.path, "--child", plan], { encoding: "utf8", maxBuffer: 16 << 20 });
  if (res.status !== 0) throw new Error(`child for ${plan} failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split("\n").at(-1)!) as { code: number; ended: number; ok: number; load_ms: number; run_ms: number; peak_rss_mb: number };
}

function figures(n: number, runMs: number) {
  return { instances_per_s: Math.round(n / (runMs / 1000)), us_per_instance: r((runMs * 1000) / n, 2) };
}

async function main(): Promise<void> {
  const dir = scratchDir("overhead");
  const { plain, guards, total, plainTotal } = writePlans(dir);

  const p = inProcess(plain);
  const g = inProcess(guards);

  // End to end: the CLI, NDJSON to a file (as cheap as /dev/null, and run_end can be read back).
  const out = join(dir, "events.ndjson");
  const fd = openSync(out, "w");
  const { argv } = fanoutArgv();
  const t0 = performance.now();
  const cli = spawnSync(argv[0]!, [...argv.slice(1), "run", plain, "--json", "--quiet"], { stdio: ["ignore", fd, "pipe"] });
  const wallS = (performance.now() - t0) / 1000;
  closeSync(fd);
  if (cli.status !== 0) throw new Error(`fanout run failed: ${cli.stderr}`);
  const lines = readFileSync(out, "utf8").trimEnd().split("\n");
  const runEnd = JSON.parse(lines.at(-1)!) as { summary: { makespan_ms: number; peak_rss_bytes: number; ok: number } };

  const plainRate = figures(plainTotal, p.run_ms).instances_per_s;
  const guardRate = figures(total, g.run_ms).instances_per_s;
  const worstRss = Math.max(p.peak_rss_mb, g.peak_rss_mb);
  report("scheduler_overhead", {
    plain: { instances: plainTotal, ok: p.ok, forks: 64, load_ms: r(p.load_ms, 1), run_ms: r(p.run_ms, 1), ...figures(plainTotal, p.run_ms), peak_rss_mb: p.peak_rss_mb },
    guards: { instances: total, ok: g.ok, forks: 64, load_ms: r(g.load_ms, 1), run_ms: r(g.run_ms, 1), ...figures(total, g.run_ms), peak_rss_mb: g.peak_rss_mb },
    cli: {
      instances: plainTotal,
      ok: runEnd.summary.ok,
      wall_s: r(wallS),
      instances_per_s_wall: Math.round(plainTotal / wallS),
      makespan_ms: runEnd.summary.makespan_ms,
      instances_per_s_run: Math.round(plainTotal / (runEnd.summary.makespan_ms / 1000)),
      peak_rss_mb: r(runEnd.summary.peak_rss_bytes / 2 ** 20, 1),
      ndjson_lines: lines.length,
    },
    ratio_plain_to_goal: r(plainRate / GOAL_PLAIN),
    ratio_guards_to_goal: r(guardRate / GOAL_GUARDS),
    goal: `>= ${GOAL_PLAIN}/s plain, >= ${GOAL_GUARDS}/s with guards, peak RSS < ${GOAL_RSS_MB} MB`,
    goal_met: plainRate >= GOAL_PLAIN && guardRate >= GOAL_GUARDS && worstRss < GOAL_RSS_MB && p.ok === plainTotal && g.ok === total,
  });
}

if (process.argv[2] === "--child") await child(process.argv[3]!);
else await main();
