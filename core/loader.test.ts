/**
 * loadPlugin in-process under Bun: every way a plugin file can be wrong is a
 * PluginError naming it, and a plugin importing "fanout" at run time shares
 * this program's instance, inside the project or far from it.
 */
import { describe, expect, test } from "bun:test";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { PluginError } from "./errors.ts";
import { BUILTIN_NAMES, loadBuiltin, loadPlugin } from "./loader.ts";
import { copyPluginFolder, PLUGIN_FIXTURES, ROOT } from "./runtime/plugin_fixtures.ts";
import { runPlanText, tempDir } from "./test_helpers.ts";

const fixture = (name: string) => join(PLUGIN_FIXTURES, name);

async function loadError(path: string): Promise<PluginError> {
  const error = await loadPlugin("x", path).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(PluginError);
  return error as PluginError;
}

describe("loadPlugin › rejects", () => {
  test("a bad hint, naming the plugin and the export", async () => {
    const e = await loadError(fixture("bad_hint.ts"));
    expect(e.pluginPath).toBe(fixture("bad_hint.ts"));
    expect(e.message).toStartWith(`${fixture("bad_hint.ts")}: invalid module exports: parallelizationHint:`);
  });

  test("a module without run", async () => {
    expect((await loadError(fixture("no_run.ts"))).message).toContain("expected a run function");
  });

  test("a plugin that throws while being imported, with its message once", async () => {
    const e = await loadError(fixture("throws_at_import.ts"));
    expect(e.message).toBe(`${fixture("throws_at_import.ts")}: could not be loaded: cannot start: missing configuration`);
  });

  test("a syntax error, as file:line:col with the parser's words, and the position on the error", async () => {
    const file = fixture("broken/syntax_error.ts");
    const e = await loadError(file);
    expect(e.message).toStartWith(`${file}:7:22: syntax error: Expected "}" but found "b"`);
    expect(e.position).toEqual({ file, line: 7, col: 22 });
    expect(e.pluginPath).toBe(file);
  });

  test("a syntax error in a file the plugin imports names that file, and the plugin", async () => {
    const e = await loadError(fixture("broken/imports_syntax_error.ts"));
    expect(e.message).toBe(`${fixture("broken/syntax_error_helper.js")}:4:7: syntax error: "a" has already been declared (imported by plugin ${fixture("broken/imports_syntax_error.ts")})`);
  });

  test("a file that does not exist", async () => {
    expect((await loadError(join(ROOT, "fixtures/plugins/nope.ts"))).message).toEndWith("nope.ts: file not found");
  });

  test("a package that is not installed", async () => {
    const e = await loadError(fixture("missing_dep.ts"));
    expect(e.message).toContain("fanout-no-such-package");
  });
});

describe("loadPlugin › the fanout module at run time", () => {
  const plan = (path: string) => `
version: 1
hosts: [web1, web2]
plugins: { sdk: ${path} }
tasks:
  - { name: works, module: sdk }
  - { name: refuses, module: sdk, hosts: [web1], with: { refuse: true }, needs: [] }
`;

  async function expectSharedInstance(pluginFile: string) {
    const log = await runPlanText(plan(pluginFile));
    const byId = Object.fromEntries(log.ends.map((e) => [e.id, e]));
    expect(log.exitCode).toBe(1);
    expect(byId["works[web2]"]).toMatchObject({ status: "ok", changed: true, data: { host: "web2", validated: true } });
    // Our own TaskFailure class: not labelled as an unexpected error class.
    expect(byId["refuses[web1]"]).toMatchObject({ status: "failed", error: "refused on purpose (cause: as asked)" });
  }

  test("a plugin inside the project", async () => {
    await expectSharedInstance(fixture("sdk_runtime.ts"));
  });

  test("a plugin outside the project, where no tsconfig or node_modules leads to core/mod.ts", async () => {
    const file = join(tempDir("fanout-plugin-"), "sdk_runtime.ts");
    cpSync(fixture("sdk_runtime.ts"), file);
    await expectSharedInstance(file);
  });

  test("another error class is named in the task's error", async () => {
    const log = await runPlanText("version: 1\nplugins: { t: ./t.ts }\ntasks:\n  - { name: a, module: t }\n", {}, {
      "t.ts": "export default () => { throw new TypeError('x is not a function'); };\n",
    });
    expect(log.ends[0]!.error).toBe("TypeError: x is not a function");
  });

  test("a plugin with its own npm dependency (entry in a subfolder)", async () => {
    const dir = copyPluginFolder("with_dep", ["yaml"]);
    const module = await loadPlugin("parse", join(dir, "plugin.ts"));
    expect(await module.run({ text: "a: 1" }, {} as never)).toEqual({ data: { keys: ["a"] } });
  });
});

describe("loadBuiltin", () => {
  test("every built-in imports when first named, validates, and carries its name and source", async () => {
    for (const name of BUILTIN_NAMES) {
      const mod = await loadBuiltin(name);
      expect([mod?.name, mod?.source, typeof mod?.run]).toEqual([name, `builtin:${name}`, "function"]);
    }
    expect(BUILTIN_NAMES).toEqual(["checksum", "copy", "debug", "http", "shell", "sleep"]);
  });

  test("an unknown name, or a name off the registry's prototype, is undefined", async () => {
    expect(await loadBuiltin("aptt")).toBeUndefined();
    expect(await loadBuiltin("constructor")).toBeUndefined();
  });
});
