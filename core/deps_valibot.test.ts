/**
 * The bundle fanout ships must not build valibot's namespace as an object
 * (a getter per export, made whenever valibot loads: about 2 ms of every
 * compiled run's start). It happens as soon as anything the program imports
 * uses the namespace as a value, e.g. `export * as v from "valibot"`
 * (deps.ts, for the SDK) reached from cli.ts. Checked on the output of the
 * same bundler, without --compile (its chunks are then files to read).
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { tempDir } from "./test_helpers.ts";

const ROOT = resolve(import.meta.dirname, "..");

function bundledChunks(entry: string): string[] {
  const out = tempDir("fanout-bundle-");
  const r = spawnSync(process.execPath, ["--no-install", "build", entry, "--splitting", "--minify", "--format=esm", "--target=bun", "--outdir", out], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bun build failed: ${r.stderr}`);
  return readdirSync(out).filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(out, f), "utf8"));
}

/** A getter table of valibot's exports, as the bundler writes one: `{BASE64_REGEX:()=>…`. */
const NAMESPACE_OBJECT = /\{BASE64_REGEX:\(\)=>/;

test("the program's bundle builds no valibot namespace object", () => {
  const chunks = bundledChunks("cli.ts");
  expect(chunks.some((c) => c.includes("EMOJI_REGEX"))).toBe(true); // valibot is in it
  expect(chunks.filter((c) => NAMESPACE_OBJECT.test(c))).toEqual([]);
}, 60_000);

test("the check can fail: the SDK module, which re-exports the namespace, does build one", () => {
  const chunks = bundledChunks("core/mod.ts");
  expect(chunks.filter((c) => NAMESPACE_OBJECT.test(c)).length).toBe(1);
}, 60_000);
