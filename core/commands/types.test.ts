/**
 * `fanout types`: the d.ts it writes is current with core/mod.ts and stands
 * alone; in a folder with nothing installed (no valibot, no @types/node, no
 * fanout source), tsc and deno check a plugin against it: a good plugin
 * passes, a wrong hint or a wrong ctx call is an error.
 */
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { GENERATED_FILE, generateModule } from "../../scripts/gen_sdk_types.ts";
import { FANOUT_DTS } from "../sdk_types.generated.ts";
import { compiledBinary, DENO } from "../runtime/fanout_runtimes.ts";
import { tempDir } from "../test_helpers.ts";

const ROOT = join(import.meta.dir, "../..");

const GOOD = `import { defineModule, TaskFailure, v } from "fanout";
import type { TaskContext, TaskResult } from "fanout";

export const input = v.strictObject({ url: v.string() });

export default defineModule({
  parallelizationHint: { kind: "rate_limited", per_second: 5, burst: 2 },
  resources: { cpu: 1, mem: "64MiB" },
  input,
  async run(args, ctx: TaskContext): Promise<TaskResult> {
    const r = await ctx.exec(["curl", "-fsS", args.url], { killGraceMs: 500 });
    if (r.code !== 0) throw new TaskFailure(\`GET \${args.url}: exit \${r.code}\`);
    ctx.log.info(r.stdout);
    return { changed: false, data: { status: r.code }, bytes: r.stdout.length };
  },
});
`;

const BAD = `import { defineModule } from "fanout";
export default defineModule({
  parallelizationHint: { kind: "rate_limitd", per_second: 5 },
  run(_input, ctx) {
    return ctx.exec("curl");
  },
});
`;

describe("fanout types", () => {
  test("core/sdk_types.generated.ts is current (npm run build regenerates it)", () => {
    expect(readFileSync(GENERATED_FILE, "utf8")).toBe(generateModule());
  }, 60_000);

  test("the d.ts stands alone: it imports no package", () => {
    expect(FANOUT_DTS).not.toMatch(/from "(?!fanout)|import\("(?!fanout)/);
  });

  test("with only the binary's fanout.d.ts, tsc and deno check pass a good plugin and reject a bad one", async () => {
    // A folder outside the project with nothing installed: no node_modules above it, no @types.
    const dir = tempDir("fanout-types-");
    expect(ancestors(dir).filter((d) => existsSync(join(d, "node_modules")))).toEqual([]);
    const r = spawnSync(compiledBinary(), ["types", "."], { cwd: dir, encoding: "utf8" });
    expect([r.status, r.stdout]).toEqual([0, `wrote ${join(dir, "fanout.d.ts")}\n`]);
    expect(readFileSync(join(dir, "fanout.d.ts"), "utf8")).toBe(FANOUT_DTS);

    writeFileSync(join(dir, "good.ts"), GOOD);
    writeFileSync(join(dir, "bad.ts"), BAD);
    // tsc: the ambient `declare module "fanout"` answers the import once fanout.d.ts is in the program.
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: "ES2023", module: "ESNext", moduleResolution: "bundler", types: [] },
      include: ["*.ts"],
    }));
    // Deno resolves imports before it checks types: "fanout" maps to the d.ts, which is also loaded for its ambient modules.
    writeFileSync(join(dir, "deno.json"), JSON.stringify({ compilerOptions: { types: ["./fanout.d.ts"] }, imports: { fanout: "./fanout.d.ts" } }));
    // tsc under Node when the machine has it: on a loaded machine it runs many times faster than under Bun.
    const node = spawnSync("node", ["--version"]).status === 0 ? "node" : process.execPath;
    const [tsc, denoGood, denoBad] = await Promise.all([
      output([node, join(ROOT, "node_modules/typescript/lib/tsc.js"), "-p", "."], dir),
      output([DENO, "check", "--quiet", "good.ts"], dir),
      output([DENO, "check", "--quiet", "bad.ts"], dir),
    ]);
    const errors = tsc.text.split("\n").filter((l) => l.includes("error TS"));
    expect(errors.filter((l) => !l.startsWith("bad.ts"))).toEqual([]);
    expect(errors.some((l) => l.startsWith("bad.ts(3,") && l.includes('"rate_limitd"'))).toBe(true);
    expect(errors.some((l) => l.startsWith("bad.ts(5,"))).toBe(true);
    expect([denoGood.code, denoGood.text]).toEqual([0, ""]);
    expect(denoBad.code).not.toBe(0);
    expect(denoBad.text).toContain("bad.ts:3:");
  }, 300_000);
});

/** `dir` and every folder above it. */
function ancestors(dir: string): string[] {
  return dir === dirname(dir) ? [dir] : [dir, ...ancestors(dirname(dir))];
}

/** Runs `argv` in `cwd`; its exit code and its stdout and stderr together, without colour codes. */
function output(argv: string[], cwd: string): Promise<{ code: number | null; text: string }> {
  return new Promise((done) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let text = "";
    child.stdout.on("data", (b) => text += b);
    child.stderr.on("data", (b) => text += b);
    child.on("close", (code) => done({ code, text }));
  });
}
