/**
 * bundlePlugin under Bun: one file with the plugin's npm dependencies inside
 * and "fanout" left as an import, so the bundle gets the running instance.
 * The same bundles run through the compiled binary in plugin_runtimes.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bundlePlugin } from "./bundle_plugin.ts";
import { importPlugin } from "./import_plugin.ts";
import { copyPluginFolder, PLUGIN_FIXTURES } from "./plugin_fixtures.ts";

describe("bundlePlugin", () => {
  test("inlines a dependency whose entry is in a subfolder; keeps fanout external", async () => {
    const dir = copyPluginFolder("with_dep", ["yaml"]);
    const file = await bundlePlugin(join(dir, "plugin.ts"));
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/from\s*"fanout"/);
    expect(text).not.toMatch(/from\s*"yaml"/);
    // importPlugin registers the virtual "fanout" module the bundle imports.
    const mod = await importPlugin(file) as { default: (input: { text: string }) => unknown };
    expect(mod.default({ text: "a: 1\nb: 2" })).toEqual({ data: { keys: ["a", "b"] } });
    expect(() => mod.default({ text: "plain" })).toThrow('expected a YAML mapping, got "plain"');
  });

  test("a package installed nowhere: says which, and where to install it", async () => {
    const error = await bundlePlugin(join(PLUGIN_FIXTURES, "missing_dep.ts")).catch((e: Error) => e);
    expect(String(error)).toContain(`cannot find package "fanout-no-such-package" imported from ${join(PLUGIN_FIXTURES, "missing_dep.ts")}`);
    expect(String(error)).toContain(`npm install fanout-no-such-package\` in ${PLUGIN_FIXTURES}`);
  });
});
