/**
 * Makespan against its lower bound, through the CLI (`--json`, run_end's
 * makespan_ms: from the scheduler's start to the last instance's end).
 *
 * - sleep_builtin / sleep_shell: 200 × 50 ms at forks 20 (bound 0.5 s), with
 *   the built-in `sleep` module and with `shell` running `sleep 0.05`.
 * - per_host: 4 hosts × 10 × 100 ms, host_exclusive, forks 8 (bound 1.0 s).
 * - head_of_line: forks 4; ten host_exclusive 100 ms sleeps on one host plus
 *   thirty fully_parallel ones (bound max(10 × 0.1, 40 × 0.1 / 4) = 1.0 s).
 *   A scheduler that lets the locked instances hold fork slots takes longer.
 * - xargs -P20 and make -j20 on the 200 × `sleep 0.05` case, for comparison
 *   (whole-process wall time, like a user would see).
 *
 * Goal: every fanout case within 1.05× its bound.
 */
import { join } from "node:path";
import { have, r, report, runFanout, scaled, scratchDir, timeCommand, writeFile } from "./lib.ts";

const GOAL = 1.05;

interface Case {
  name: string;
  plan: string;
  forks: number;
  boundS: number;
}

function main(): void {
  const dir = scratchDir("makespan");
  const n = scaled(200, 20);
  const items = (count: number) => `[${Array.from({ length: count }, (_, i) => i).join(", ")}]`;
  const perHostItems = scaled(10, 2);
  const hol = { locked: scaled(10, 2), free: scaled(30, 6) };

  const cases: Case[] = [
    {
      name: "sleep_builtin",
      forks: 20,
      boundS: (Math.ceil(n / 20) * 50) / 1000,
      plan: writeFile(dir, "sleep_builtin.yml", `version: 1
name: sleep-builtin
tasks:
  - name: nap
    module: sleep
    items: ${items(n)}
    with: { duration: 50ms }
`),
    },
    {
      name: "sleep_shell",
      forks: 20,
      boundS: (Math.ceil(n / 20) * 50) / 1000,
      plan: writeFile(dir, "sleep_shell.yml", `version: 1
name: sleep-shell
tasks:
  - name: nap
    module: shell
    items: ${items(n)}
    with: { argv: [sleep, "0.05"] }
`),
    },
    {
      name: "per_host",
      forks: 8,
      boundS: (perHostItems * 100) / 1000,
      plan: writeFile(dir, "per_host.yml", `version: 1
name: per-host
hosts: [a, b, c, d]
tasks:
  - name: locked
    module: sleep
    items: ${items(perHostItems)}
    hint: host_exclusive
    with: { duration: 100ms }
`),
    },
    {
      name: "head_of_line",
      forks: 4,
      boundS: Math.max(hol.locked * 0.1, ((hol.locked + hol.free) * 0.1) / 4),
      plan: writeFile(dir, "head_of_line.yml", `version: 1
name: head-of-line
hosts: [db1]
tasks:
  - name: locked
    module: sleep
    items: ${items(hol.locked)}
    hint: host_exclusive
    with: { duration: 100ms }
  - name: free
    module: sleep
    items: ${items(hol.free)}
    needs: []
    with: { duration: 100ms }
`),
    },
  ];

  const results: Record<string, unknown> = {};
  let worst = 0;
  for (const c of cases) {
    const run = runFanout(c.plan, ["-p", String(c.forks)]);
    const s = run.runEnd.summary!;
    if (s.ok !== s.total) throw new Error(`${c.name}: ${s.total - s.ok} instances did not succeed`);
    const ratio = s.makespan_ms / 1000 / c.boundS;
    worst = Math.max(worst, ratio);
    results[c.name] = {
      instances: s.total,
      forks: c.forks,
      bound_s: r(c.boundS),
      makespan_s: r(s.makespan_ms / 1000),
      ratio_to_bound: r(ratio),
      wall_s: r(run.wallS),
    };
  }

  // Peers on the sleep case: whole-process wall time against the same bound.
  const peers: Record<string, unknown> = {};
  const missing: string[] = [];
  const list = writeFile(dir, "naps.txt", Array.from({ length: n }, () => "0.05").join("\n") + "\n");
  writeFile(dir, "Makefile", `all: ${Array.from({ length: n }, (_, i) => `n${i}`).join(" ")}\n.PHONY: all\n` +
    Array.from({ length: n }, (_, i) => `n${i}:\n\t@sleep 0.05\n`).join(""));
  const bound = (Math.ceil(n / 20) * 50) / 1000;
  const peerRuns: [string, string, string[]][] = [
    ["xargs", "xargs", ["sh", "-c", `xargs -P20 -n1 sleep < ${list}`]],
    ["make", "make", ["make", "-s", "-j20", "-C", dir, "-f", join(dir, "Makefile")]],
  ];
  for (const [name, program, argv] of peerRuns) {
    if (!have(program)) {
      missing.push(name);
      continue;
    }
    const wall = timeCommand(argv);
    peers[name] = { wall_s: r(wall), ratio_to_bound: r(wall / bound) };
  }

  report("makespan", {
    cases: results,
    peers_sleep_200: { bound_s: bound, ...peers },
    missing,
    worst_ratio_to_bound: r(worst),
    goal: `makespan <= ${GOAL}x the lower bound in every case`,
    goal_met: worst <= GOAL,
  });
}

main();
