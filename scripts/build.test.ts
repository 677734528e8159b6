/**
 * The build as `npm run build` makes it: a binary without a source map in
 * it, and beside it a map for each of its chunks, so that a stack trace of
 * the binary can still be read against the .ts files.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../core/test_helpers.ts";
import { buildBinary } from "./build.ts";

const dir = tempDir("fanout-build-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The modules the binary holds, by the names a stack trace gives them (`/$bunfs/root/NAME`). */
function chunksIn(binary: string): Set<string> {
  const text = readFileSync(binary).toString("latin1");
  return new Set([...text.matchAll(/\/\$bunfs\/root\/([\w.-]+\.js)\b/g)].map((m) => m[1]!));
}

describe("buildBinary with maps", () => {
  test("the binary runs; fanout.maps/ holds one map per chunk of it, and the entry's, each naming the .ts files", () => {
    const binary = join(dir, "fanout");
    buildBinary(binary, { quiet: true, maps: true });
    const version = spawnSync(binary, ["--version"], { encoding: "utf8" });
    expect(version.status).toBe(0);
    expect(version.stdout).toStartWith("fanout ");

    const chunks = chunksIn(binary);
    expect(chunks.size).toBeGreaterThan(10);
    const maps = readdirSync(`${binary}.maps`);
    expect(new Set(maps.filter((m) => m !== "fanout.map").map((m) => m.replace(/\.map$/, "")))).toEqual(chunks);
    expect(maps).toContain("fanout.map");

    const sourcesOf = (map: string) => (JSON.parse(readFileSync(join(`${binary}.maps`, map), "utf8")) as { sources: string[] }).sources;
    expect(sourcesOf("fanout.map").some((s) => s.endsWith("cli.ts"))).toBe(true);
    const scheduler = maps.find((m) => sourcesOf(m).some((s) => s.endsWith("core/scheduler.ts")));
    expect(scheduler).toBeDefined();
  }, 120_000);
});
