/**
 * Builds the single-file executable (`npm run build` → dist/fanout):
 *   bun --no-install scripts/build.ts --outfile dist/fanout
 * It first regenerates core/sdk_types.generated.ts (scripts/gen_sdk_types.ts),
 * so the binary's `fanout types` always matches core/mod.ts.
 * The commit the source is at is baked in as FANOUT_COMMIT, so the binary's
 * `--version` and run_start name it without a .git to read. Tests import
 * buildBinary() to build into a folder of their own; the whole-process
 * benchmarks build their floor programs with it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");

/**
 * The arguments after `bun` that compile `entry` (relative to the project
 * root, or absolute) into `outfile` as fanout ships. The benchmarks build
 * their floor programs with them too, so those start exactly as fanout does.
 * `target` (a Bun target such as "bun-linux-arm64") cross-compiles; Bun
 * fetches that platform's runtime through the npm registry.
 */
export function compileArgs(entry: string, outfile: string, target?: string): string[] {
  const git = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  const commit = git.status === 0 ? git.stdout.trim() : "unknown";
  return [
    "--no-install", "build", entry, "--compile",
    // Bytecode starts faster (it needs ESM, and cli.ts has no top-level await);
    // --sourcemap makes traces point at .ts lines.
    "--minify", "--sourcemap", "--bytecode", "--format=esm",
    // Each dynamic import() its own chunk, loaded when first imported: without
    // it every node: module any command uses (node:crypto for checksums, say)
    // is loaded at start-up, by `fanout --version` too.
    "--splitting",
    // JavaScriptCore's tier-up thresholds ×16: code that runs once at start-up
    // (or a few hundred times, once per instance) stays in the interpreter
    // rather than being JIT-compiled on a second thread that competes with the
    // commands for the cores. Measured from the shell on 2 cores: a one-task
    // plan 7–11% faster, 1,000 × `true` 2–5% and 200 sleeps 6% (policy 4 and
    // 100 did less); hot loops still tier up within thousands of iterations.
    // docs/benchmarks.md, "The JIT policy".
    "--compile-jit-policy=16",
    // A user's .env or bunfig.toml must not change how fanout itself behaves.
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    "--define", `FANOUT_COMMIT=${JSON.stringify(commit)}`,
    ...(target ? [`--target=${target}`] : []),
    "--outfile", outfile,
  ];
}

/**
 * Compiles cli.ts (or `entry`) into `outfile`, with its source map beside it
 * as `outfile.map`; throws with bun's output if the build fails. Bun also
 * writes a map per chunk (they are inside the binary too): the build goes to
 * a scratch folder beside `outfile`, so that they do not pile up there.
 */
export function buildBinary(outfile: string, options: { quiet?: boolean; entry?: string; target?: string } = {}): void {
  mkdirSync(dirname(resolve(outfile)), { recursive: true });
  const scratch = mkdtempSync(join(dirname(resolve(outfile)), ".build-"));
  try {
    const built = join(scratch, basename(outfile));
    const args = compileArgs(options.entry ?? "cli.ts", built, options.target);
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", stdio: options.quiet ? "pipe" : "inherit" });
    if (r.status !== 0) throw new Error(`bun build failed (exit ${r.status}): ${r.stderr ?? ""}`);
    renameSync(built, outfile);
    if (existsSync(`${built}.map`)) renameSync(`${built}.map`, `${outfile}.map`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outfile: { type: "string", default: "dist/fanout" } } });
  const { regenerate } = await import("./gen_sdk_types.ts");
  if (regenerate()) console.log("regenerated core/sdk_types.generated.ts");
  buildBinary(resolve(values.outfile!));
}
