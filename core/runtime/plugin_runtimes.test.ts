/**
 * User plugins through the real compiled binary and under Deno, each run
 * from a working directory outside the project: the plugin importing
 * "fanout" gets the running instance (TaskFailure is our class), a plugin's
 * own npm dependency loads, and a broken plugin exits 2 before anything runs.
 * One set of fixtures runs under all three runtimes and must give the same
 * results and the same error messages. Checked from the run's NDJSON, its
 * stderr and exit codes.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { compiledBinary, DENO, FANOUT_RUNTIMES, type FanoutRuntime, fanoutArgv } from "./fanout_runtimes.ts";
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

/** fixtures/plugins/parity copied outside the project, its packages/ as node_modules. */
function parityFolder(): string {
  const dir = copyPluginFolder("parity");
  renameSync(join(dir, "packages"), join(dir, "node_modules"));
  return dir;
}

/** A plan with one task running the plugin at `plugin`. */
function planFor(plugin: string): string {
  const plan = join(tempDir("fanout-plan-"), "plan.yml");
  writeFileSync(plan, `version: 1\nplugins: { p: ${plugin} }\ntasks:\n  - { name: a, module: p }\n`);
  return plan;
}

describe("plugins › the same on Bun, Deno and the compiled binary", () => {
  beforeAll(() => {
    compiledBinary();
  }, 60_000);

  test("package entries, createRequire, JSON imports and import.meta.url give the same results", () => {
    const results = FANOUT_RUNTIMES.map((runtime) => {
      const dir = parityFolder();
      const r = run([...fanoutArgv(runtime), "run", join(dir, "plan.yml"), "--json", "-q"]);
      const end = endsById(r.stdout)["report[localhost]"];
      const data: Record<string, unknown> = { ...end?.data, file: String(end?.data.file).replace(dir, "<dir>") };
      return { runtime, code: r.code, status: end?.status, error: end?.error, data };
    });
    for (const r of results) {
      expect(r).toEqual({
        runtime: r.runtime,
        code: 0,
        status: "ok",
        error: null,
        // Bun picks `main` over `module`, and the `node` condition when it comes before `import`.
        data: { dual: "main", conds: "node", cjs: 42, conds_json: "conds", json_items: 3, required_json: "parity-data", file: "<dir>/plugin.ts" },
      });
    }
  }, 120_000);

  const broken = join(PLUGIN_FIXTURES, "broken");
  const cases: [fixture: string, expected: string][] = [
    ["missing_dep.ts", `error: ${join(PLUGIN_FIXTURES, "missing_dep.ts")}: could not be loaded: cannot find package "fanout-no-such-package" imported from ${join(PLUGIN_FIXTURES, "missing_dep.ts")}: install it beside the plugin (run \`npm install fanout-no-such-package\` in ${PLUGIN_FIXTURES} or a folder above it)`],
    ["broken/missing_export.ts", `error: ${join(broken, "missing_export.ts")}:3:10: could not be loaded: ${join(broken, "missing_export_helper.ts")} has no export named "notExported"`],
    // Each runtime's parser has its own words for the problem: the position and the shape are ours.
    ["broken/syntax_error.ts", `error: ${join(broken, "syntax_error.ts")}:7:22: syntax error: …`],
    ["no_run.ts", `error: ${join(PLUGIN_FIXTURES, "no_run.ts")}: invalid module exports: run: expected a run function: \`export default async function run(input, ctx) {…}\``],
    ["throws_at_import.ts", `error: ${join(PLUGIN_FIXTURES, "throws_at_import.ts")}: could not be loaded: cannot start: missing configuration`],
  ];

  test.each(cases)("%s: exit 2 and the same message on every runtime, without ANSI codes", (fixture, expected) => {
    const plan = planFor(join(PLUGIN_FIXTURES, fixture));
    const seen = (runtime: FanoutRuntime) => {
      const r = run([...fanoutArgv(runtime), "run", plan]);
      const first = r.stderr.split("\n")[0]!.replace(/(: syntax error: ).*/, "$1…");
      return { runtime, code: r.code, first, ansi: r.stderr.includes("\u001b"), stdout: r.stdout };
    };
    for (const runtime of FANOUT_RUNTIMES) {
      expect(seen(runtime)).toEqual({ runtime, code: 2, first: expected, ansi: false, stdout: "" });
    }
  }, 120_000);
});

describe("plugins › the environment of a command", () => {
  beforeAll(() => void compiledBinary(), 120_000);

  test("is the process's own as it is when the command starts, on every runtime, with or without the jobserver", () => {
    // A plugin may set process.env before ctx.exec; Bun.spawn without an env gives the child the environment the process started with.
    const plan = join(tempDir(), "plan.yml");
    writeFileSync(plan, `version: 1
plugins: { env: ${join(PLUGIN_FIXTURES, "env_at_exec.ts")} }
tasks:
  - { name: served, module: env }
  - { name: plain, module: env, jobserver: false }
`);
    for (const runtime of FANOUT_RUNTIMES) {
      const r = run([...fanoutArgv(runtime), "run", plan, "--json", "-q", "--no-journal"]);
      const ends = endsById(r.stdout);
      expect([runtime, r.code, ends["served[localhost]"]?.data, ends["plain[localhost]"]?.data]).toEqual([
        runtime, 0, { seen: "set by served" }, { seen: "set by plain" },
      ]);
    }
  }, 120_000);
});

describe("plugins › the compiled binary's bundle cache", () => {
  const bundles = (dir: string) => readdirSync(join(dir, ".fanout/cache/plugins")).filter((f) => f.endsWith(".mjs")).sort();
  const entry = (dir: string) => join(dir, ".fanout/cache/plugins", readdirSync(join(dir, ".fanout/cache/plugins")).find((f) => f.endsWith(".json"))!);
  const report = (dir: string) => endsById(run([compiledBinary(), "run", join(dir, "plan.yml"), "--json", "-q"]).stdout)["report[localhost]"];

  beforeAll(() => {
    compiledBinary();
  }, 60_000);

  test("an unchanged plugin is not bundled again; the cache folder is the owner's alone", () => {
    const dir = parityFolder();
    expect(report(dir)?.status).toBe("ok");
    expect(statSync(join(dir, ".fanout/cache")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, ".fanout/cache/plugins")).mode & 0o777).toBe(0o700);
    const [before, written] = [bundles(dir), statSync(entry(dir)).mtimeMs];
    expect(before.length).toBe(1);
    expect(report(dir)?.status).toBe("ok");
    // A hit reads the entry and the bundle; it writes neither.
    expect([bundles(dir), statSync(entry(dir)).mtimeMs]).toEqual([before, written]);
  }, 60_000);

  test("an edited plugin, an edited package file deep in the bundle, or a damaged bundle: bundled again", () => {
    const dir = parityFolder();
    expect(report(dir)?.data.cjs).toBe(42);
    // A package file reached only through require() at run time is not in the bundle; one inside it is.
    writeFileSync(join(dir, "node_modules/conds/node.js"), 'export const which = "node, edited";\n');
    expect(report(dir)?.data.conds).toBe("node, edited");
    writeFileSync(join(dir, "data.json"), '{ "name": "parity-data", "items": [1] }\n');
    expect(report(dir)?.data.json_items).toBe(1);
    const current = readdirSync(join(dir, ".fanout/cache/plugins")).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(readFileSync(join(dir, ".fanout/cache/plugins", f), "utf8")).bundle);
    for (const name of current) writeFileSync(join(dir, ".fanout/cache/plugins", `${name}.mjs`), 'export default () => ({ data: { damaged: true } });\n');
    expect(report(dir)?.data).toMatchObject({ json_items: 1, conds: "node, edited" });
  }, 120_000);
});
