/**
 * Builds the release binaries (`npm run release` → dist/release/):
 *   bun --no-install scripts/release.ts [--out DIR] [--target NAME]… [--allow-missing]
 * One `fanout-<version>-<os>-<arch>[.exe]` per target, compiled with the
 * same flags as `npm run build` (compileArgs) plus `--target`, and a
 * SHA256SUMS file that `sha256sum -c SHA256SUMS` verifies. A target that
 * cannot be built is named and makes the exit code 1, unless
 * --allow-missing; the binaries this machine can run are smoke-run
 * (`--version` must name the version and the commit baked in).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { buildBinary } from "./build.ts";

const ROOT = resolve(import.meta.dirname, "..");

export interface ReleaseTarget {
  /** `<os>-<arch>`, as in the file name. */
  name: string;
  /** What `bun build --target` calls it. */
  bunTarget: string;
  /** `process.platform` and `process.arch` of a machine that runs it. */
  platform: string;
  arch: string;
}

export const TARGETS: ReleaseTarget[] = [
  { name: "linux-x64", bunTarget: "bun-linux-x64", platform: "linux", arch: "x64" },
  { name: "linux-arm64", bunTarget: "bun-linux-arm64", platform: "linux", arch: "arm64" },
  { name: "darwin-x64", bunTarget: "bun-darwin-x64", platform: "darwin", arch: "x64" },
  { name: "darwin-arm64", bunTarget: "bun-darwin-arm64", platform: "darwin", arch: "arm64" },
  { name: "windows-x64", bunTarget: "bun-windows-x64", platform: "win32", arch: "x64" },
];

/** The target this process runs on, if fanout is released for it. */
export function hostTarget(): ReleaseTarget | undefined {
  return TARGETS.find((t) => t.platform === process.platform && t.arch === process.arch);
}

export function binaryName(version: string, target: ReleaseTarget): string {
  return `fanout-${version}-${target.name}${target.platform === "win32" ? ".exe" : ""}`;
}

export interface ReleaseOptions {
  outDir: string;
  targets: ReleaseTarget[];
  allowMissing?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export interface ReleaseResult {
  /** 0, or 1 when a target failed (to build or its smoke run) and allowMissing is off. */
  code: number;
  built: { target: string; file: string; smoke?: string }[];
  failed: { target: string; error: string }[];
  version: string;
  commit: string;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
}

function git(args: string[]): string | undefined {
  const r = spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Runs `file --version`; returns its line, or throws if it does not name `version` and `commit`. */
function smokeRun(file: string, version: string, commit: string): string {
  const r = spawnSync(file, ["--version"], { encoding: "utf8", timeout: 60_000 });
  const line = (r.stdout ?? "").trim();
  if (r.status !== 0) throw new Error(`${file} --version exited ${r.status ?? r.signal}: ${r.stderr}`);
  const expected = `fanout ${version} (${commit.slice(0, 7)})`;
  if (!line.startsWith(expected)) throw new Error(`${file} --version printed ${JSON.stringify(line)}, expected it to start with ${JSON.stringify(expected)}`);
  return line;
}

/**
 * Builds every target into `outDir` (its earlier fanout-* files and
 * SHA256SUMS removed first, so the sums describe exactly what is there),
 * then writes SHA256SUMS for what was built.
 */
export async function release(options: ReleaseOptions): Promise<ReleaseResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const version = packageVersion();
  const commit = git(["rev-parse", "HEAD"]) ?? "unknown";
  if (git(["status", "--porcelain", "--untracked-files=no"])) {
    log(`warning: uncommitted changes: the binaries name commit ${commit.slice(0, 7)} but are built from the working tree`);
  }
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  for (const name of readdirSync(outDir)) {
    if (name.startsWith("fanout-") || name === "SHA256SUMS") rmSync(join(outDir, name), { force: true });
  }
  const host = hostTarget();
  const result: ReleaseResult = { code: 0, built: [], failed: [], version, commit };
  for (const target of options.targets) {
    const name = binaryName(version, target);
    const file = join(outDir, name);
    try {
      // Without maps: `npm run build` at the same commit writes them, for reading a trace.
      buildBinary(file, { quiet: true, target: target.bunTarget });
      const smoke = target.name === host?.name ? smokeRun(file, version, commit) : undefined;
      result.built.push({ target: target.name, file: name, smoke });
      log(`built ${name}${smoke ? ` (ran here: ${smoke})` : " (not run: another platform)"}`);
    } catch (error) {
      rmSync(file, { force: true });
      const message = error instanceof Error ? error.message.trim() : String(error);
      result.failed.push({ target: target.name, error: message });
      log(`FAILED ${target.name}: ${message}`);
    }
  }
  const sums: string[] = [];
  for (const b of result.built) sums.push(`${await sha256(join(outDir, b.file))}  ${b.file}\n`);
  writeFileSync(join(outDir, "SHA256SUMS"), sums.join(""));
  log(`wrote ${join(outDir, "SHA256SUMS")} (${result.built.length} of ${options.targets.length} targets)`);
  if (result.failed.length > 0) {
    const names = result.failed.map((f) => f.target).join(", ");
    if (options.allowMissing) log(`missing: ${names} (allowed by --allow-missing)`);
    else {
      log(`missing: ${names}; rerun with --allow-missing to release without them`);
      result.code = 1;
    }
  }
  return result;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      out: { type: "string", default: "dist/release" },
      target: { type: "string", multiple: true },
      "allow-missing": { type: "boolean", default: false },
    },
  });
  const names = values.target ?? TARGETS.map((t) => t.name);
  const unknown = names.filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`error: unknown target ${unknown.join(", ")}; expected one of: ${TARGETS.map((t) => t.name).join(", ")}\n`);
    process.exit(2);
  }
  const result = await release({
    outDir: resolve(values.out!),
    targets: TARGETS.filter((t) => names.includes(t.name)),
    allowMissing: values["allow-missing"],
  });
  process.exit(result.code);
}
