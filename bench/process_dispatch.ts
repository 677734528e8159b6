/**
 * Process dispatch: 2,000 `true` at concurrency 8, through fanout's `shell`
 * module (`-p 8`: with --json, with output: discard, and --quiet alone,
 * where nothing reads the output) and, in the same run, through xargs -P8,
 * GNU parallel -j8, make -j8, ninja -j8 and a bare Bun.spawn loop. Every figure is the wall
 * time of a whole process, start-up included, best of REPEATS (runs of the
 * tools interleave, so a noisy moment does not favour one of them; a tool
 * more than twice as slow as the best gets one run).
 *
 * Goal: ahead of xargs and within 5% of the fastest. A peer that is not
 * installed is reported as missing.
 */
import { join } from "node:path";
import { fanoutArgv, have, r, report, scaled, scratchDir, timeCommand, writeFile } from "./lib.ts";

const JOBS = 8;
const REPEATS = 3;

const BARE_LOOP = `// ${JOBS} workers, each spawning the next \`true\` as soon as its last one exits.
const total = Number(process.argv[2]);
let next = 0;
async function worker() {
  while (next < total) {
    next++;
    await Bun.spawn({ cmd: ["true"], stdin: "ignore", stdout: "ignore", stderr: "ignore" }).exited;
  }
}
await Promise.all(Array.from({ length: ${JOBS} }, worker));
`;

interface Peer {
  name: string;
  /** A program that must be installed, if any. */
  needs?: string;
  argv: string[];
}

function main(): void {
  const n = scaled(2000, 50);
  const dir = scratchDir("dispatch");
  const items = Array.from({ length: n }, (_, i) => String(i));
  writeFile(dir, "items.txt", items.join("\n") + "\n");
  const plan = writeFile(dir, "plan.yml", `version: 1
name: dispatch
tasks:
  - name: "true"
    module: shell
    items_from: { file: items.txt }
    with: { argv: ["true"] }
`);
  // The same with output discarded: what make, ninja and xargs do (they capture nothing).
  const planDiscard = writeFile(dir, "plan_discard.yml", `version: 1
name: dispatch-discard
tasks:
  - name: "true"
    module: shell
    items_from: { file: items.txt }
    with: { argv: ["true"], output: discard }
`);
  writeFile(dir, "Makefile", `all: ${items.map((i) => `t${i}`).join(" ")}\n.PHONY: all ${items.map((i) => `t${i}`).join(" ")}\n` +
    items.map((i) => `t${i}:\n\t@true\n`).join(""));
  writeFile(dir, "build.ninja", `rule t\n  command = true\n` + items.map((i) => `build o${i}: t\n`).join(""));
  const bare = writeFile(dir, "bare.ts", BARE_LOOP);
  const list = join(dir, "items.txt");

  const { argv } = fanoutArgv();
  const tools: Peer[] = [
    { name: "fanout", argv: [...argv, "run", plan, "--json", "--quiet", "-p", String(JOBS)] },
    { name: "fanout_discard", argv: [...argv, "run", planDiscard, "--json", "--quiet", "-p", String(JOBS)] },
    // Nothing reads the output (no --json, --quiet): the shell module sends it to /dev/null, as with output: discard.
    { name: "fanout_quiet", argv: [...argv, "run", plan, "--quiet", "-p", String(JOBS)] },
    { name: "bun_spawn_loop", argv: [process.execPath, "--no-install", bare, String(n)] },
    { name: "xargs", needs: "xargs", argv: ["sh", "-c", `xargs -P${JOBS} -n1 true < ${list}`] },
    { name: "gnu_parallel", needs: "parallel", argv: ["sh", "-c", `parallel -j${JOBS} true < ${list}`] },
    { name: "make", needs: "make", argv: ["make", "-s", `-j${JOBS}`, "-C", dir] },
    { name: "ninja", needs: "ninja", argv: ["ninja", `-j${JOBS}`, "-C", dir] },
  ];
  const best = new Map<string, number>();
  const missing: string[] = [];
  const errors: Record<string, string> = {};
  const present = tools.filter((t) => {
    if (t.needs && !have(t.needs)) missing.push(t.name);
    return !t.needs || have(t.needs);
  });
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const t of present) {
      if (errors[t.name]) continue;
      // A tool more than twice as slow as the best so far gets one run: more would only lengthen the benchmark.
      const fastestSoFar = Math.min(...best.values());
      if (rep > 0 && best.get(t.name)! > 2 * fastestSoFar) continue;
      try {
        const s = timeCommand(t.argv, { cwd: dir });
        best.set(t.name, Math.min(best.get(t.name) ?? Infinity, s));
      } catch (e) {
        errors[t.name] = (e as Error).message;
      }
    }
  }
  const rates: Record<string, number> = {};
  for (const [name, s] of best) rates[name] = Math.round(n / s);
  const fastest = Object.entries(rates).filter(([name]) => !name.startsWith("fanout")).sort((a, b) => b[1] - a[1])[0];
  const ours = rates.fanout ?? 0;
  const ratio = fastest ? ours / fastest[1] : NaN;
  const discard = rates.fanout_discard ?? 0;
  const quiet = rates.fanout_quiet ?? 0;
  report("process_dispatch", {
    processes: n,
    jobs: JOBS,
    repeats: REPEATS,
    processes_per_s: rates,
    wall_s: Object.fromEntries([...best].map(([k, s]) => [k, r(s)])),
    fastest_peer: fastest?.[0] ?? null,
    ratio_to_fastest: r(ratio),
    ratio_to_xargs: rates.xargs ? r(ours / rates.xargs) : null,
    ratio_to_fastest_discard: fastest ? r(discard / fastest[1]) : null,
    ratio_to_fastest_quiet: fastest ? r(quiet / fastest[1]) : null,
    missing,
    errors,
    goal: "ahead of xargs and >= 0.95x the fastest peer",
    goal_met: ours > 0 && (rates.xargs === undefined || ours > rates.xargs) && ratio >= 0.95,
    goal_met_discard: discard > 0 && (rates.xargs === undefined || discard > rates.xargs) && discard / (fastest?.[1] ?? Infinity) >= 0.95,
  });
}

main();
