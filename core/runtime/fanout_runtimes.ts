/**
 * Shared by tests: the three ways fanout runs — from source under Bun, from
 * source under Deno, and as the compiled binary. The binary is built once per
 * test process, into a temp dir (dist/ may be someone else's).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildBinary } from "../../scripts/build.ts";
import { tempDir } from "../test_helpers.ts";
import { ROOT } from "./plugin_fixtures.ts";

export const DENO = join(ROOT, "node_modules/.bin/deno");
export const CLI = join(ROOT, "cli.ts");

export type FanoutRuntime = "bun" | "deno" | "binary";
export const FANOUT_RUNTIMES: readonly FanoutRuntime[] = ["bun", "deno", "binary"];

let built: string | undefined;

/**
 * Builds the binary as `npm run build` does (scripts/build.ts), once per test
 * process, into a temp dir removed when the process exits (it is over 100 MiB).
 */
export function compiledBinary(): string {
  if (built) return built;
  const dir = tempDir("fanout-bin-");
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  buildBinary(join(dir, "fanout"), { quiet: true });
  return built = join(dir, "fanout");
}

/** The argv that starts fanout under `runtime`; append the command and its flags. */
export function fanoutArgv(runtime: FanoutRuntime): string[] {
  if (runtime === "bun") return [process.execPath, "--no-install", CLI];
  if (runtime === "deno") return [DENO, "run", "-A", CLI];
  return [compiledBinary()];
}
