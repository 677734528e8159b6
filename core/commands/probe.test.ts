import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { UsageError } from "../errors.ts";
import { probeCommand } from "./probe.ts";
import { formatProbe, printProbe } from "./probe_output.ts";

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
