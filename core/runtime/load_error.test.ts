/**
 * importProblemOf: what Bun really throws (imported here), and Deno's words
 * as Deno 2.9 prints them (colour codes included) — the same problem reads
 * the same. Through all three runtimes end to end: plugin_runtimes.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { importProblemOf, MissingPackageError, stripAnsi } from "./load_error.ts";
import { PLUGIN_FIXTURES } from "./plugin_fixtures.ts";

const MISSING_DEP = join(PLUGIN_FIXTURES, "missing_dep.ts");
const HINT = `could not be loaded: cannot find package "fanout-no-such-package" imported from ${MISSING_DEP}: ` +
  `install it beside the plugin (run \`npm install fanout-no-such-package\` in ${PLUGIN_FIXTURES} or a folder above it)`;

describe("importProblemOf", () => {
  test("a missing package: Bun's ResolveMessage, Deno's coloured TypeError and the bundler's own error read alike", async () => {
    const bun = await import(MISSING_DEP).catch((e: unknown) => e);
    const deno = Object.assign(
      new TypeError(
        'Import "fanout-no-such-package" not a dependency and not in import map from "file://' + MISSING_DEP + '"\n' +
          "  \u001b[0m\u001b[36mhint:\u001b[0m If you want to use the npm package, try running `deno add npm:fanout-no-such-package`\n" +
          `    at \u001b[0m\u001b[36mfile://${MISSING_DEP}\u001b[0m:\u001b[0m\u001b[33m3\u001b[0m:\u001b[0m\u001b[33m25\u001b[0m`,
      ),
      { code: "ERR_MODULE_NOT_FOUND" },
    );
    const bundler = new MissingPackageError("fanout-no-such-package", MISSING_DEP);
    for (const error of [bun, deno, bundler]) expect(importProblemOf(error, MISSING_DEP)).toEqual({ detail: HINT });
  });

  test("a missing export under Bun is placed at the plugin's own import of it", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "helper.ts"), "export const a = 1;\n");
    writeFileSync(join(dir, "p.ts"), 'import { a } from "./helper.ts";\nimport {\n  a as b,\n  nope,\n} from "./helper.ts";\nexport default () => ({ data: { a, b, nope } });\n');
    const error = await import(join(dir, "p.ts")).catch((e: unknown) => e);
    expect(importProblemOf(error, join(dir, "p.ts"))).toEqual({
      detail: `could not be loaded: ${join(dir, "helper.ts")} has no export named "nope"`,
      position: { file: join(dir, "p.ts"), line: 4, col: 3 },
    });
  });

  test("anything else is not an import problem; stripAnsi leaves plain text alone", () => {
    expect(importProblemOf(new Error("cannot start"), MISSING_DEP)).toBeUndefined();
    expect(importProblemOf(null, MISSING_DEP)).toBeUndefined();
    expect(stripAnsi("\u001b[0m\u001b[36mhint:\u001b[0m x")).toBe("hint: x");
    expect(stripAnsi("plain [0m")).toBe("plain [0m");
  });
});
