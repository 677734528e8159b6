/**
 * Faults of fanout's surroundings, from real processes under Bun, Deno and
 * the compiled binary: a stderr whose reader has gone, a stdout on a full
 * disk, a hang-up. Judged by exit codes, the NDJSON on stdout, and pgrep for
 * the commands the plan started.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fanoutArgv } from "./core/runtime/fanout_runtimes.ts";
import { tempDir, writeFiles } from "./core/test_helpers.ts";

/** Each way fanout runs, as the argv that starts it; the binary is filled in by beforeAll. */
const runners: Record<string, string[]> = { bun: fanoutArgv("bun"), deno: fanoutArgv("deno"), binary: [] };
beforeAll(() => {
  runners.binary = fanoutArgv("binary");
}, 120_000);

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const shellLine = (argv: string[]) => argv.map(quote).join(" ");

function ndjson(text: string): Record<string, unknown>[] {
  return text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** A number no other test's `sleep` has: sleep 30.<marker> is findable with pgrep -f. */
function uniqueMarker(): string {
  return `30.${process.pid}${Math.floor(Math.random() * 1e9)}`;
}

/**
 * A plan of `count` shells each waiting on a `sleep 30.<marker>` child: the
 * shell leads the process group, the sleep is a member; pgrep sees both.
 */
function sleepersPlan(marker: string, count = 3): string {
  return `version: 1\ntasks:\n  - { name: wait, module: shell, items: [${[...Array(count).keys()].join(", ")}], with: { argv: [sh, -c, "sleep ${marker}; :"] } }\n`;
}

function pgrep(marker: string): number[] {
  const r = spawnSync("pgrep", ["-f", `sleep ${marker}`], { encoding: "utf8" });
  return r.stdout.split("\n").filter(Boolean).map(Number);
}

/** Polls until no process carries `marker` (true), or gives up after a few seconds (false). */
async function allGone(marker: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (pgrep(marker).length === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Kills what a failed test left behind: only processes carrying this test's marker. */
const markers: string[] = [];
afterAll(() => {
  for (const marker of markers) for (const pid of pgrep(marker)) process.kill(pid, "SIGKILL");
});

describe.each(Object.keys(runners))("fanout's own output and signals › %s", (name) => {
  const fanout = () => runners[name]!;

  test("a closed stderr stops human output and nothing else: the run completes, run_end is written, the exit code is the run's", () => {
    const plan = "version: 1\ntasks:\n  - { name: s, module: shell, items: [0, 1, 2, 3], with: { argv: [sh, -c, 'sleep 0.5; exit $0', '{{ item }}'] } }\n";
    const dir = writeFiles({ "plan.yml": plan });
    // head takes the first stderr line (the run's header) and leaves; every later line meets a closed pipe.
    const line = `{ ${shellLine(fanout())} run plan.yml --json 2>&1 >out; echo $? >rc; } | head -n 1`;
    const r = spawnSync("sh", ["-c", line], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.stdout).toStartWith("fanout: plan plan:");
    expect(readFileSync(join(dir, "rc"), "utf8").trim()).toBe("1");
    const events = ndjson(readFileSync(join(dir, "out"), "utf8"));
    expect(events.filter((e) => e.type === "task_end").map((e) => e.status).sort()).toEqual(["failed", "failed", "failed", "ok"]);
    expect(events.at(-1)).toMatchObject({ type: "run_end", summary: { ok: 1, failed: 3, interrupted: false } });
  }, 60_000);

  test("a plugin writing to process.stdout itself after its reader left: no warning, no crash, the run's exit code", () => {
    const plugin = `export default async function run() {
  for (let i = 0; i < 100; i++) {
    process.stdout.write("x".repeat(1000) + "\\n");
    await new Promise((r) => setTimeout(r, 1));
  }
  return { changed: false };
}
`;
    const plan = "version: 1\nplugins: { noisy: ./noisy.ts }\ntasks:\n  - { name: n, module: noisy }\n";
    const dir = writeFiles({ "plan.yml": plan, "noisy.ts": plugin });
    const line = `{ ${shellLine(fanout())} run plan.yml --json 2>err; echo $? >rc; } | head -c 10`;
    const r = spawnSync("sh", ["-c", line], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.stdout).toBe('{"type":"r');
    const err = readFileSync(join(dir, "err"), "utf8");
    expect(err).not.toMatch(/EPIPE|broken pipe|unhandled/i);
    expect([readFileSync(join(dir, "rc"), "utf8").trim(), err]).toEqual(["0", expect.stringContaining("1 ok, 0 failed of 1")]);
  }, 60_000);

  test("what a plugin writes to process.stdout itself all reaches a slow reader before fanout exits", () => {
    const plugin = `export default async function run() {
  process.stdout.write("y".repeat(300000) + "\\n");
  return { changed: false };
}
`;
    const plan = "version: 1\nplugins: { big: ./big.ts }\ntasks:\n  - { name: b, module: big }\n";
    const dir = writeFiles({ "plan.yml": plan, "big.ts": plugin });
    // The reader starts late: most of the output is still in the stream's buffer when the run ends.
    const r = spawnSync("sh", ["-c", `${shellLine(fanout())} run plan.yml -q | { sleep 1; wc -c; }`], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.stdout.trim()).toBe("300001");
  }, 60_000);

  test("a stdout that cannot be written (a full disk) ends the run: exit 74, a message, no command left running", async () => {
    const marker = uniqueMarker();
    markers.push(marker);
    const dir = writeFiles({ "plan.yml": sleepersPlan(marker) });
    const r = spawnSync("sh", ["-c", `exec ${shellLine(fanout())} run plan.yml --json >/dev/full`], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(74);
    expect(r.stderr).toMatch(/error: cannot write to stdout \(.*no space left on device.*\): stopping\n/i);
    expect(r.stderr).toContain("interrupted:");
    expect(await allGone(marker)).toBe(true);
    for (const args of [["run", "plan.yml", "--dry-run"], ["--version"], ["help"]]) {
      const other = spawnSync("sh", ["-c", `exec ${shellLine([...fanout(), ...args])} >/dev/full`], { cwd: dir, encoding: "utf8", timeout: 60_000 });
      expect([args, other.status]).toEqual([args, 74]);
    }
  }, 60_000);

  test("SIGHUP cancels the running instances, kills their groups, writes run_end and exits 130", async () => {
    const marker = uniqueMarker();
    markers.push(marker);
    const dir = writeFiles({ "plan.yml": sleepersPlan(marker) });
    const [program, ...args] = fanout();
    const child = spawn(program!, [...args, "run", "plan.yml", "--json"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let sent = false;
    child.stdout.on("data", (d) => {
      out += d;
      if (!sent && out.split('"type":"task_start"').length === 4) {
        sent = true;
        child.kill("SIGHUP");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(sent).toBe(true);
    expect(code).toBe(130);
    const events = ndjson(out);
    expect(events.at(-1)).toMatchObject({ type: "run_end", summary: { cancelled: 3, interrupted: true } });
    expect(await allGone(marker)).toBe(true);
  }, 60_000);
});
