/**
 * When fanout's main() returns, nothing is left to keep the event loop
 * alive: no timer, no handle. So the process ends as soon as its output is
 * written and its children are gone (cli.ts gives only a plugin's leftovers
 * a moment, 100 ms at most).
 *
 * Checked structurally, not timed: under Deno through
 * process.getActiveResourcesInfo() (timers and handles); under Bun, whose
 * getActiveResourcesInfo() is always empty, by watching every setTimeout
 * and setInterval made during the run (Bun's own spawn and pipe handles are
 * covered by the Deno run only as Node's child_process paths).
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { DENO } from "./core/runtime/fanout_runtimes.ts";
import { writeFiles } from "./core/test_helpers.ts";

const ROOT = import.meta.dir;
const CLI = resolve(ROOT, "cli.ts");

/** Runs main(argv) in a fresh process, then prints what is still pending, as JSON, on the last stderr line. */
const PROBE = `
import process from "node:process";
const timers = new Set();
if (typeof Bun !== "undefined") {
  for (const [make, clear] of [["setTimeout", "clearTimeout"], ["setInterval", "clearInterval"]]) {
    const original = globalThis[make];
    const originalClear = globalThis[clear];
    globalThis[make] = (fn, ms, ...args) => {
      const t = original((...a) => {
        if (make === "setTimeout") timers.delete(t);
        fn(...a);
      }, ms, ...args);
      timers.add(t);
      return t;
    };
    globalThis[clear] = (t) => {
      timers.delete(t);
      originalClear(t);
    };
  }
}
const { main } = await import(${JSON.stringify(CLI)});
const code = await main(process.argv.slice(2));
// What is scheduled for "right after" gets its turn first.
await new Promise((r) => setImmediate(r));
const pending = typeof Bun !== "undefined"
  ? [...timers].filter((t) => t.hasRef()).map(() => "Timeout")
  : process.getActiveResourcesInfo();
process.stderr.write("\\n" + JSON.stringify({ code, pending }) + "\\n");
`;

const PLAN = `version: 1
tasks:
  - { name: ok, module: shell, items: [1, 2, 3], with: { argv: [sh, -c, "echo out; echo err >&2"] } }
  - { name: fails, module: shell, needs: [], retries: 1, retry_delay: 10ms, with: { argv: ["false"] } }
  - { name: slow, module: shell, needs: [], timeout: 200ms, kill_grace: 100ms, with: { argv: [sh, -c, "trap '' TERM; sleep 5"] } }
  - { name: nap, module: sleep, needs: [], with: { duration: 10ms } }
`;

const runtimes: Record<string, string[]> = {
  bun: [process.execPath, "--no-install"],
  deno: [DENO, "run", "-A", "--config", join(ROOT, "deno.json")],
};

const invocations: [string, string[], number][] = [
  ["run --json", ["run", "plan.yml", "--json"], 1],
  ["run (human output)", ["run", "plan.yml"], 1],
  ["run --progress always (the live dashboard: its redraw timer and resize listener)", ["run", "plan.yml", "--progress", "always"], 1],
  ["run -q, one task", ["run", "one.yml", "-q"], 0],
  ["run --dry-run", ["run", "plan.yml", "--dry-run"], 0],
  ["--version", ["--version"], 0],
  ["an invalid plan", ["run", "missing.yml"], 2],
];

describe.each(Object.keys(runtimes))("main() leaves nothing pending › %s", (runtime) => {
  test.each(invocations)("%s", (_name, args, code) => {
    const dir = writeFiles({
      "probe.ts": PROBE,
      "plan.yml": PLAN,
      "one.yml": "version: 1\ntasks:\n  - { name: one, module: shell, with: { argv: [\"true\"] } }\n",
    });
    const r = spawnSync(runtimes[runtime]![0]!, [...runtimes[runtime]!.slice(1), join(dir, "probe.ts"), ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    const last = r.stderr.trim().split("\n").at(-1) ?? "";
    expect(r.status).toBe(0);
    expect(JSON.parse(last)).toEqual({ code, pending: [] });
  }, 60_000);
});

/**
 * How the process ends after main(): at once (process.exit, no "beforeExit")
 * when no plugin of the user's was loaded, since nothing of fanout's own is
 * pending; the usual way when one was, so that its leftover timer still runs.
 * Seen from a preloaded script's "beforeExit" and "exit" listeners.
 */
const EXIT_PROBE = `
import { writeSync } from "node:fs";
process.on("beforeExit", () => writeSync(2, "[beforeExit]\\n"));
process.on("exit", (code) => writeSync(2, "[exit " + code + "]\\n"));
`;

const LATE_TIMER_PLUGIN = `
import { writeSync } from "node:fs";
export default async function run() {
  setTimeout(() => writeSync(2, "[late timer]\\n"), 30);
  return { changed: false };
}
`;

const preloaded: Record<string, (probe: string) => string[]> = {
  bun: (probe) => [process.execPath, "--no-install", "--preload", probe, CLI],
  deno: (probe) => [DENO, "run", "-A", "--config", join(ROOT, "deno.json"), "--preload", probe, CLI],
};

describe.each(Object.keys(preloaded))("how the process ends › %s", (runtime) => {
  const dir = writeFiles({
    "probe.ts": EXIT_PROBE,
    "late.ts": LATE_TIMER_PLUGIN,
    "one.yml": "version: 1\ntasks:\n  - { name: one, module: shell, with: { argv: [\"true\"] } }\n",
    "plugin.yml": "version: 1\nplugins:\n  late: ./late.ts\ntasks:\n  - { name: one, module: late }\n",
  });
  const marks = (plan: string) => {
    const [cmd, ...args] = preloaded[runtime]!(join(dir, "probe.ts"));
    const r = spawnSync(cmd!, [...args, "run", plan, "-q"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    return r.stderr.split("\n").filter((line) => line.startsWith("["));
  };

  test("without a plugin: at once, its event loop not run to its end", () => {
    expect(marks("one.yml")).toEqual(["[exit 0]"]);
  }, 60_000);

  test("with a plugin: the usual way, its leftover timer run first", () => {
    expect(marks("plugin.yml")).toEqual(["[late timer]", "[beforeExit]", "[exit 0]"]);
  }, 60_000);
});
