/**
 * User plugins through the real compiled binary and under Deno, each run
 * from a working directory outside the project: the plugin importing
 * "fanout" gets the running instance (TaskFailure is our class), a plugin's
 * own npm dependency loads, and a broken plugin exits 2 before anything runs.
 * Checked from the run's NDJSON and exit codes.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { compiledBinary, DENO } from "./fanout_runtimes.ts";
import { copyPluginFolder, endsById, ndjson, PLUGIN_FIXTURES, ROOT } from "./plugin_fixtures.ts";

const SDK_PLAN = join(ROOT, "fixtures/sdk_plugin.yml");

function run(argv: string[]) {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: tempDir("fanout-cwd-"), encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectSdkPlan(r: ReturnType<typeof run>) {
  expect(r.code).toBe(1);
  const ends = endsById(r.stdout);
  expect(ends["works[web1]"]).toMatchObject({ status: "ok", data: { host: "web1", validated: true } });
  expect(ends["works[web2]"]).toMatchObject({ status: "ok", data: { host: "web2", validated: true } });
  // Labelled "TaskFailure: …" if the plugin had a second copy of the class.
  expect(ends["refuses[web1]"]).toMatchObject({ status: "failed", error: "refused on purpose (cause: as asked)" });
}

function expectWithDepPlan(r: ReturnType<typeof run>) {
  expect(r.code).toBe(1);
  const ends = endsById(r.stdout);
  expect(ends["mapping[localhost]"]).toMatchObject({ status: "ok", data: { keys: ["a", "b"] } });
  expect(ends["scalar[localhost]"]).toMatchObject({ status: "failed", error: 'expected a YAML mapping, got "just text"' });
}

/** Both broken fixtures through `runPlan(planFile)`: exit 2, nothing run, the position first. */
function expectSyntaxErrors(runPlan: (plan: string) => ReturnType<typeof run>, json: boolean) {
  const broken = join(PLUGIN_FIXTURES, "broken");
  for (const [plugin, where] of [["syntax_error.ts", "syntax_error.ts:7:22"], ["imports_syntax_error.ts", "syntax_error_helper.js:4:7"]]) {
    const plan = join(tempDir(), "plan.yml");
    writeFileSync(plan, `version: 1\nplugins: { p: ${join(broken, plugin!)} }\ntasks:\n  - { name: a, module: p }\n`);
    const r = runPlan(plan);
    expect([plugin, r.code]).toEqual([plugin, 2]);
    expect(r.stderr).toStartWith(`error: ${join(broken, where!)}: syntax error: `);
    // With --json the error is an event too, and nothing else is written; without, stdout stays empty.
    const events = ndjson(r.stdout);
    if (json) {
      expect(events.map((e) => [e.type, e.kind, e.exit_code])).toEqual([["error", "plugin", 2]]);
      expect(String(events[0]!.message)).toStartWith(`${join(broken, where!)}: syntax error: `);
    } else expect(r.stdout).toBe("");
  }
}

describe("plugins › the compiled binary", () => {
  let bin = "";
  beforeAll(() => {
    bin = compiledBinary();
  }, 60_000);

  test("a plugin importing fanout at run time shares the binary's instance", () => {
    expectSdkPlan(run([bin, "run", SDK_PLAN, "--json", "-q"]));
  });

  test("a plugin with its own npm dependency (entry in dist/) runs", () => {
    const dir = copyPluginFolder("with_dep", ["yaml"]);
    expectWithDepPlan(run([bin, "run", join(dir, "plan.yml"), "--json", "-q"]));
  });

  test("a missing package is a plugin error (exit 2) that says what to install; nothing runs", () => {
    const dir = copyPluginFolder("with_dep");
    const r = run([bin, "run", join(dir, "plan.yml"), "--json"]);
    expect(r.code).toBe(2);
    expect(ndjson(r.stdout).map((e) => [e.type, e.kind])).toEqual([["error", "plugin"]]);
    expect(r.stderr).toContain(`error: ${join(dir, "plugin.ts")}: could not be loaded: cannot find package "yaml"`);
    expect(r.stderr).toContain(`run \`npm install yaml\` in ${dir}`);
  });

  test("shell commands run through the binary to their end, one or many", () => {
    const cwd = tempDir("fanout-cwd-");
    writeFileSync(join(cwd, "one.yml"), "version: 1\ntasks:\n  - { name: one, module: shell, with: { argv: [echo, hi] } }\n");
    writeFileSync(join(cwd, "many.yml"), `version: 1\nparallelism: 8\ntasks:\n  - { name: n, module: shell, items: [${Array.from({ length: 40 }, (_, i) => i).join(",")}], with: { argv: [echo, "{{ item }}"] } }\n`);
    for (const plan of ["one.yml", "many.yml"]) {
      const r = spawnSync(bin, ["run", plan, "--json", "-q"], { cwd, encoding: "utf8", timeout: 30_000 });
      expect(r.status).toBe(0);
      const ends = Object.values(endsById(r.stdout));
      expect(ends.length).toBe(plan === "one.yml" ? 1 : 40);
      expect(ends.every((e) => e.status === "ok" && String(e.data.stdout).length > 1)).toBe(true);
    }
  });

  test("the binary ignores a .env and a bunfig.toml in the working directory", () => {
    const cwd = tempDir("fanout-cwd-");
    writeFileSync(join(cwd, ".env"), "FANOUT_LEAK=from-dotenv\n");
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./preload.ts"]\n');
    writeFileSync(join(cwd, "preload.ts"), 'console.error("PRELOADED");\n');
    writeFileSync(join(cwd, "plan.yml"), `version: 1\ntasks:\n  - { name: env, module: shell, with: { cmd: 'echo "[$FANOUT_LEAK]"', shell: true } }\n`);
    const r = spawnSync(bin, ["run", "plan.yml", "--json", "-q"], { cwd, encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(endsById(r.stdout)["env[localhost]"]).toMatchObject({ status: "ok", data: { stdout: "[]\n" } });
    expect(r.stderr).not.toContain("PRELOADED");
  });

  test("a syntax error in a plugin, or in a file it imports, is a plugin error at file:line:col (exit 2)", () => {
    expectSyntaxErrors((plan) => run([bin, "run", plan]), false);
  });

  test("a plugin that throws at import is a plugin error (exit 2)", () => {
    const plan = join(tempDir(), "plan.yml");
    writeFileSync(plan, `version: 1\nplugins: { t: ${join(PLUGIN_FIXTURES, "throws_at_import.ts")} }\ntasks:\n  - { name: a, module: t }\n`);
    const r = run([bin, "run", plan]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("throws_at_import.ts: could not be loaded: cannot start: missing configuration");
  });
});

describe("plugins › deno run -A cli.ts, from another directory", () => {
  const deno = (plan: string) => run([DENO, "run", "-A", join(ROOT, "cli.ts"), "run", plan, "--json", "-q"]);

  test("a plugin importing fanout at run time shares the instance", () => {
    expectSdkPlan(deno(SDK_PLAN));
  });

  test("a plugin outside the project with its own npm dependency runs", () => {
    expectWithDepPlan(deno(join(copyPluginFolder("with_dep", ["yaml"]), "plan.yml")));
  });

  test("a syntax error in a plugin, or in a file it imports, is a plugin error at file:line:col (exit 2)", () => {
    expectSyntaxErrors(deno, true);
  });
});
