import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { UsageError } from "../errors.ts";
import { probeCommand } from "./probe.ts";
import { formatProbe, printProbe, PROBE_SCHEMA_VERSION } from "./probe_output.ts";
import { REPRESENTATIVE_BUDGET_MS, shortBudgetNote } from "../probe/calibrate.ts";

describe("probeCommand", () => {
  test("reports device, cores and memory for the working directory; human and JSON forms", async () => {
    const r = await probeCommand(".");
    expect(r.cores.cores).toBeGreaterThanOrEqual(1);
    expect(r.memory.bytes).toBeGreaterThan(0);
    const text = formatProbe(r);
    for (const label of ["path", "device", "class", "depth", "cores", "memory"]) expect(text).toContain(`\n${label}`.slice(label === "path" ? 1 : 0));
    let json = "";
    printProbe(r, true, (s) => (json += s));
    expect(json.endsWith("\n") && json.indexOf("\n") === json.length - 1).toBe(true);
    expect(JSON.parse(json).device.class).toBe(r.device.class);
  });

  test("bad usage is a UsageError", async () => {
    await expect(probeCommand("/definitely/not/here")).rejects.toBeInstanceOf(UsageError);
    await expect(probeCommand(".", { budgetMs: 100 })).rejects.toThrow("--budget only applies with --calibrate");
    await expect(probeCommand(".", { calibrate: true, budgetMs: 0 })).rejects.toBeInstanceOf(UsageError);
  });
});

const ROOT = resolve(import.meta.dir, "../..");
const SCRATCH = ".fanout-calibrate-";
const CALIBRATION_FILE_BYTES = 128 * 1024 * 1024;

/** Polls `probe` every 10 ms until it returns a value, at most ~30 s. */
async function waitFor<T>(probe: () => T | undefined): Promise<T | undefined> {
  for (let i = 0; i < 3000; i++) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

describe("fanout probe --calibrate › Ctrl-C", () => {
  for (const phase of ["writing", "sweeping"] as const) {
    test(`while ${phase}: exit 130, the scratch file removed, nothing printed`, async () => {
      const dir = tempDir("fanout-probe-");
      const child = spawn(process.execPath, ["--no-install", join(ROOT, "cli.ts"), "probe", dir, "--calibrate", "--budget", "30s", "--json"], {
        env: { ...process.env, XDG_CACHE_HOME: tempDir("fanout-cache-") },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      child.stdout.on("data", (c) => (stdout += c));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      try {
        const scratch = await waitFor(() => readdirSync(dir).find((name) => name.startsWith(SCRATCH)));
        expect(scratch).toBeDefined();
        // Written whole: the sweep has begun (or is about to, after the fsync).
        if (phase === "sweeping") expect(await waitFor(() => statSync(join(dir, scratch!)).size === CALIBRATION_FILE_BYTES || undefined)).toBe(true);
        child.kill("SIGINT");
        expect(await exited).toBe(130);
        expect(readdirSync(dir)).toEqual([]);
        expect(stdout).toBe("");
      } finally {
        child.kill("SIGKILL");
      }
    }, 60_000);
  }
});

/** `fanout probe …` from source, with a calibration cache of its own. */
function probe(args: string[], cache: string) {
  const r = spawnSync(process.execPath, ["--no-install", join(ROOT, "cli.ts"), "probe", ...args], {
    cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, XDG_CACHE_HOME: cache },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every object key in `value`, with its path. */
function keys(value: unknown, at = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keys(v, `${at}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [`${at}.${k}`, ...keys(v, `${at}.${k}`)]);
}

describe("fanout probe --json", () => {
  test("one line: schema_version, and every key at every depth in snake_case", () => {
    const r = probe([tempDir("fanout-probe-"), "--json"], tempDir("fanout-cache-"));
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout.indexOf("\n")).toBe(r.stdout.length - 1);
    const report = JSON.parse(r.stdout);
    expect(report.schema_version).toBe(PROBE_SCHEMA_VERSION);
    const all = keys(report);
    for (const key of [".device.calibration_key", ".device.recommended.random.depth", ".cores.cores", ".memory.bytes"]) expect(all).toContain(key);
    expect(all.filter((k) => !/^[a-z0-9_]+$/.test(k.split(".").at(-1)!))).toEqual([]);
  });
});

describe("fanout probe --calibrate with a short budget, then --forget", () => {
  test("warns that the result may not be representative; --forget removes the cached file, and says so when there is none", () => {
    const dir = tempDir("fanout-probe-");
    const cache = tempDir("fanout-cache-");
    const calibrated = probe([dir, "--calibrate", "--budget", "300ms", "--json"], cache);
    expect(calibrated.code).toBe(0);
    const note = shortBudgetNote(300)!;
    expect(calibrated.stderr).toBe(`warning: calibration ${note}\n`);
    const report = JSON.parse(calibrated.stdout);
    expect(report.calibrated.notes).toContain(note);
    const file: string = report.calibrated.cache_file;
    expect(file.startsWith(join(cache, "fanout"))).toBe(true);
    expect(existsSync(file)).toBe(true);

    // Later probes still say so, from the cached budget.
    expect(probe([dir], cache).stdout).toContain("(a 300 ms budget: may not be representative)");

    const forgot = probe([dir, "--forget", "--json"], cache);
    expect([forgot.code, forgot.stderr]).toEqual([0, ""]);
    const after = JSON.parse(forgot.stdout);
    expect(after.forgotten).toEqual({ calibration_key: report.device.calibration_key, removed: file });
    expect(after.device.calibration).toBeUndefined();
    expect(existsSync(file)).toBe(false);

    const again = probe([dir, "--forget"], cache);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`forgot      nothing: no calibration cached for ${report.device.calibration_key}\n`);
    expect(again.stdout).toContain("calibrated  never");
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);

  test("shortBudgetNote › only under REPRESENTATIVE_BUDGET_MS", () => {
    expect(shortBudgetNote(REPRESENTATIVE_BUDGET_MS)).toBeUndefined();
    expect(shortBudgetNote(REPRESENTATIVE_BUDGET_MS - 1)).toContain("may not be representative");
  });
});
