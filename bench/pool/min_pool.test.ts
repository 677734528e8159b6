/** The benchmark's floor pool runs every line, never more than its fork limit at once, and reports failure. */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFiles } from "../../core/test_helpers.ts";

const POOL = join(import.meta.dir, "min_pool.ts");
const pool = (dir: string, ...args: string[]) => spawnSync(process.execPath, ["--no-install", POOL, ...args], { cwd: dir, encoding: "utf8" });

// Each run logs "+" on start and "-" on exit, so the log's running sum is how many ran at once.
const PROBE = `echo + >> log\nsleep 0.1\necho - >> log\n`;

describe("min_pool", () => {
  test("runs each line once, at most <jobs> at a time, and exits 0", () => {
    const dir = writeFiles({ "probe.sh": PROBE, "list": "sh probe.sh\n".repeat(6) });
    const res = pool(dir, "2", "list");
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    const marks = readFileSync(join(dir, "log"), "utf8").trim().split("\n");
    expect(marks.filter((m) => m === "+")).toHaveLength(6);
    expect(marks.filter((m) => m === "-")).toHaveLength(6);
    let running = 0;
    let most = 0;
    for (const m of marks) most = Math.max(most, (running += m === "+" ? 1 : -1));
    expect(most).toBeLessThanOrEqual(2);
  });

  test("exits 1 when a command fails, after running the rest", () => {
    const dir = writeFiles({ "list": "false\ntouch done\n" });
    const res = pool(dir, "1", "list");
    expect(res.status).toBe(1);
    expect(existsSync(join(dir, "done"))).toBe(true);
  });

  test("exits 2 with usage on bad arguments", () => {
    const res = pool(writeFiles({}), "0");
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("usage: min_pool <jobs> <list>");
  });
});
