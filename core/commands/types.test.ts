/**
 * `fanout types`: the d.ts it writes is current with core/mod.ts, and tsc
 * checks a plugin against it in a folder that has no fanout source: a good
 * plugin passes, a wrong hint or a wrong ctx call is an error.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GENERATED_FILE, generateModule } from "../../scripts/gen_sdk_types.ts";
import { FANOUT_DTS } from "../sdk_types.generated.ts";
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
  test("core/sdk_types.generated.ts is current (else: bun --no-install scripts/gen_sdk_types.ts)", () => {
    expect(readFileSync(GENERATED_FILE, "utf8")).toBe(generateModule());
  }, 60_000);

  test("writes fanout.d.ts, against which tsc passes a good plugin and rejects a bad one", () => {
    const dir = tempDir("fanout-types-");
    const r = spawnSync(process.execPath, ["--no-install", join(ROOT, "cli.ts"), "types", "types"], { cwd: dir, encoding: "utf8" });
    expect([r.status, r.stdout]).toEqual([0, `wrote ${join(dir, "types/fanout.d.ts")}\n`]);
    expect(readFileSync(join(dir, "types/fanout.d.ts"), "utf8")).toBe(FANOUT_DTS);

    // A plugin author's folder: valibot and @types/node installed, no skipLibCheck.
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    writeFileSync(join(dir, "good.ts"), GOOD);
    writeFileSync(join(dir, "bad.ts"), BAD);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: "ES2023", module: "ESNext", moduleResolution: "bundler", types: ["node"] },
      include: ["*.ts", "types"],
    }));
    // tsc under Node when the machine has it: on a loaded machine it runs many times faster than under Bun.
    const node = spawnSync("node", ["--version"]).status === 0 ? "node" : process.execPath;
    const tsc = spawnSync(node, [join(ROOT, "node_modules/typescript/lib/tsc.js"), "-p", "."], { cwd: dir, encoding: "utf8" });
    const errors = tsc.stdout.split("\n").filter((l) => l.includes("error TS"));
    expect(errors.filter((l) => !l.startsWith("bad.ts"))).toEqual([]);
    expect(errors.some((l) => l.startsWith("bad.ts(3,") && l.includes('"rate_limitd"'))).toBe(true);
    expect(errors.some((l) => l.startsWith("bad.ts(5,"))).toBe(true);
  }, 60_000);
});
