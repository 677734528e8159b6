/**
 * `npm run release` through its own code path, for this machine's target
 * only (the other four take a minute to download and compile; CI builds them
 * on a tag push): the binary it writes runs, names the version and commit,
 * and SHA256SUMS verifies with the real `sha256sum -c`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDocument } from "../core/deps_yaml.ts";
import { tempDir } from "../core/test_helpers.ts";
import { binaryName, hostTarget, release, TARGETS } from "./release.ts";

const ROOT = resolve(import.meta.dir, "..");
const SCRIPT = join(ROOT, "scripts/release.ts");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const HEAD = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();

const dirs: string[] = [];
function scratch(): string {
  const dir = tempDir("fanout-release-");
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const sha256sumCheck = (dir: string) => spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dir, encoding: "utf8" });

describe("npm run release", () => {
  test("for this machine's target: the binary, smoke-run; SHA256SUMS passes sha256sum -c and catches a changed byte", () => {
    const host = hostTarget();
    if (!host) throw new Error(`no release target for ${process.platform}-${process.arch}: this test cannot run here`);
    const out = scratch();
    const r = spawnSync(process.execPath, ["--no-install", SCRIPT, "--target", host.name, "--out", out], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toContain(`built ${binaryName(VERSION, host)} (ran here: fanout ${VERSION} (${HEAD.slice(0, 7)})`);
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["SHA256SUMS", binaryName(VERSION, host)].sort());

    const version = spawnSync(join(out, binaryName(VERSION, host)), ["--version"], { encoding: "utf8" });
    expect(version.status).toBe(0);
    expect(version.stdout).toStartWith(`fanout ${VERSION} (${HEAD.slice(0, 7)}) bun `);

    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8");
    expect(sums).toMatch(new RegExp(`^[0-9a-f]{64}  ${binaryName(VERSION, host)}\n$`));
    const ok = sha256sumCheck(out);
    expect(ok.stdout).toBe(`${binaryName(VERSION, host)}: OK\n`);
    expect(ok.status).toBe(0);
    appendFileSync(join(out, binaryName(VERSION, host)), "x");
    expect(sha256sumCheck(out).status).toBe(1);
  }, 300_000);

  test("a target that cannot be built is named, left out of SHA256SUMS, and fails the release unless allowMissing", async () => {
    const broken = { name: "plan9-x64", bunTarget: "bun-plan9-x64", platform: "plan9", arch: "x64" };
    for (const allowMissing of [false, true]) {
      const out = scratch();
      const lines: string[] = [];
      const result = await release({ outDir: out, targets: [broken], allowMissing, log: (l) => lines.push(l) });
      expect(result.code).toBe(allowMissing ? 0 : 1);
      expect(result.built).toEqual([]);
      expect(result.failed.map((f) => f.target)).toEqual(["plan9-x64"]);
      expect(lines.join("\n")).toContain(`FAILED plan9-x64: bun build failed`);
      expect(lines.at(-1)).toBe(allowMissing ? "missing: plan9-x64 (allowed by --allow-missing)" : "missing: plan9-x64; rerun with --allow-missing to release without them");
      expect(readdirSync(out)).toEqual(["SHA256SUMS"]);
      expect(readFileSync(join(out, "SHA256SUMS"), "utf8")).toBe("");
    }
  }, 60_000);

  test("an unknown --target is a usage error (exit 2) naming the known ones; nothing is written", () => {
    const out = join(scratch(), "release");
    const r = spawnSync(process.execPath, ["--no-install", SCRIPT, "--target", "plan9-x64", "--out", out], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`error: unknown target plan9-x64; expected one of: ${TARGETS.map((t) => t.name).join(", ")}\n`);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});

describe(".github/workflows/release.yml", () => {
  test("on a v* tag: npm install, npm run release (all targets, none allowed missing), sha256sum -c, every file of dist/release attached", () => {
    const doc = parseDocument(readFileSync(join(ROOT, ".github/workflows/release.yml"), "utf8"));
    expect(doc.errors).toEqual([]);
    const workflow = doc.toJS();
    expect(workflow.on).toEqual({ push: { tags: ["v*"] } });
    expect(workflow.permissions).toEqual({ contents: "write" });
    const steps: { run?: string; uses?: string; "working-directory"?: string }[] = workflow.jobs.release.steps;
    const runs = steps.map((s) => s.run ?? "");
    const at = (text: string) => runs.findIndex((r) => r.includes(text));
    expect(at("npm install")).toBeGreaterThan(-1);
    expect(runs[at("npm run release")]!.trim()).toBe("npm run release");
    const check = steps[at("sha256sum -c SHA256SUMS")]!;
    expect(check["working-directory"]).toBe("dist/release");
    expect(at("gh release create")).toBeGreaterThan(at("sha256sum -c"));
    expect(runs[at("gh release create")]).toContain("dist/release/*");
    expect(at("npm install")).toBeLessThan(at("npm run release"));
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.release).toBe("bun --no-install scripts/release.ts");
  });
});
