/**
 * Shared by tests: the three ways fanout runs — from source under Bun, from
 * source under Deno, and as the compiled binary. The binary is built once per
 * test process, into a temp dir (dist/ may be someone else's).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { ROOT } from "./plugin_fixtures.ts";

export const DENO = join(ROOT, "node_modules/.bin/deno");
export const CLI = join(ROOT, "cli.ts");

export type FanoutRuntime = "bun" | "deno" | "binary";
export const FANOUT_RUNTIMES: readonly FanoutRuntime[] = ["bun", "deno", "binary"];

let built: string | undefined;

/** Builds with package.json's own build command (once per test process); returns the binary's path. */
export function compiledBinary(): string {
  if (built) return built;
  const script = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.build as string;
  const out = join(tempDir("fanout-bin-"), "fanout");
  const args = script.replace("--outfile dist/fanout", `--outfile ${out}`).split(/\s+/).slice(1);
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  built = out;
  return out;
}

/** The argv that starts fanout under `runtime`; append the command and its flags. */
export function fanoutArgv(runtime: FanoutRuntime): string[] {
  if (runtime === "bun") return [process.execPath, "--no-install", CLI];
  if (runtime === "deno") return [DENO, "run", "-A", CLI];
  return [compiledBinary()];
}
