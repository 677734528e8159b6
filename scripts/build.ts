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
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
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
export function compileArgs(entry: string, outfile: string, target?: string, options: { sourcemap?: boolean } = {}): string[] {
  const git = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  const commit = git.status === 0 ? git.stdout.trim() : "unknown";
  return [
    "--no-install", "build", entry, "--compile",
    // Bytecode starts faster (it needs ESM, and cli.ts has no top-level await).
    // No source map inside the binary: Bun sets it up as each chunk loads,
    // about 5% of a one-task run and of `--version` (docs/benchmarks.md);
    // buildBinary's `maps` writes the chunks' maps beside it instead.
    "--minify", ...(options.sourcemap ? ["--sourcemap"] : []), "--bytecode", "--format=esm",
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
 * Compiles cli.ts (or `entry`) into `outfile`; throws with bun's output if
 * the build fails. The build goes to a scratch folder beside `outfile`.
 *
 * `maps`: also writes the source map of each of the binary's chunks into
 * `outfile.maps/` (`fanout.map` for the entry, `cli-1fkf0q95.js.map` for a
 * chunk loaded later), so that a stack trace of
 * the binary (`/$bunfs/root/cli-1fkf0q95.js:1:2345`) can be read against
 * the .ts files. They come from a second build of the same source with
 * --sourcemap, whose chunks are the same (their names are hashes of their
 * contents); that build's binary is thrown away.
 */
export function buildBinary(outfile: string, options: { quiet?: boolean; entry?: string; target?: string; maps?: boolean } = {}): void {
  mkdirSync(dirname(resolve(outfile)), { recursive: true });
  const scratch = mkdtempSync(join(dirname(resolve(outfile)), ".build-"));
  const compile = (built: string, sourcemap: boolean) => {
    const args = compileArgs(options.entry ?? "cli.ts", built, options.target, { sourcemap });
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", stdio: options.quiet ? "pipe" : "inherit" });
    if (r.status !== 0) throw new Error(`bun build failed (exit ${r.status}): ${r.stderr ?? ""}`);
  };
  try {
    const built = join(scratch, basename(outfile));
    compile(built, false);
    if (options.maps) {
      const mapped = join(scratch, "mapped");
      mkdirSync(mapped);
      compile(join(mapped, basename(outfile)), true);
      const maps = `${outfile}.maps`;
      rmSync(maps, { recursive: true, force: true });
      mkdirSync(maps);
      for (const name of readdirSync(mapped)) {
        if (name.endsWith(".map")) renameSync(join(mapped, name), join(maps, name));
      }
    }
    renameSync(built, outfile);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outfile: { type: "string", default: "dist/fanout" } } });
  const { regenerate } = await import("./gen_sdk_types.ts");
  if (regenerate()) console.log("regenerated core/sdk_types.generated.ts");
  buildBinary(resolve(values.outfile!), { maps: true });
}
