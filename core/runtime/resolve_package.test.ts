/** resolvePackage follows Node's rules for the package shapes plugins meet. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { resolvePackage, splitSpecifier } from "./resolve_package.ts";

/** A project with node_modules/<name> packages made of the given package.json and files. */
function project(packages: Record<string, { json: Record<string, unknown>; files: string[] }>): string {
  const root = tempDir("fanout-resolve-");
  for (const [name, { json, files }] of Object.entries(packages)) {
    const dir = join(root, "node_modules", name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name, ...json }));
    for (const f of files) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), "export {};\n");
    }
  }
  return root;
}

describe("resolvePackage", () => {
  test("splitSpecifier › plain and scoped names with subpaths", () => {
    expect(splitSpecifier("yaml")).toEqual(["yaml", "."]);
    expect(splitSpecifier("yaml/util")).toEqual(["yaml", "./util"]);
    expect(splitSpecifier("@s/p/a/b")).toEqual(["@s/p", "./a/b"]);
  });

  test("conditional exports in the package's key order, types skipped, ESM before require", () => {
    const root = project({
      a: { json: { exports: { ".": { types: "./t.d.ts", node: "./dist/node.js", default: "./browser/x.js" } } }, files: ["dist/node.js", "browser/x.js"] },
      b: { json: { exports: { require: "./lib/b.cjs", import: "./lib/b.mjs" } }, files: ["lib/b.cjs", "lib/b.mjs"] },
      c: { json: { exports: { ".": { require: "./only.cjs" } } }, files: ["only.cjs"] },
    });
    expect(resolvePackage("a", root)).toBe(join(root, "node_modules/a/dist/node.js"));
    expect(resolvePackage("b", root)).toBe(join(root, "node_modules/b/lib/b.mjs"));
    expect(resolvePackage("c", root)).toBe(join(root, "node_modules/c/only.cjs"));
  });

  test("subpath exports, exact and with a * pattern; unexported subpaths are not found", () => {
    const root = project({
      p: { json: { exports: { ".": "./dist/i.js", "./util": "./dist/u.js", "./fp/*": "./dist/fp/*.js" } }, files: ["dist/i.js", "dist/u.js", "dist/fp/map.js"] },
    });
    expect(resolvePackage("p/util", root)).toBe(join(root, "node_modules/p/dist/u.js"));
    expect(resolvePackage("p/fp/map", root)).toBe(join(root, "node_modules/p/dist/fp/map.js"));
    expect(resolvePackage("p/secret", root)).toBeUndefined();
  });

  test("module, then main (with Node's extension fallback), then index.js", () => {
    const root = project({
      m: { json: { module: "./esm/m.js", main: "./cjs/m.js" }, files: ["esm/m.js", "cjs/m.js"] },
      n: { json: { main: "lib/n" }, files: ["lib/n.js"] },
      o: { json: {}, files: ["index.js"] },
      "@s/q": { json: { main: "./dist/q.js" }, files: ["dist/q.js"] },
    });
    expect(resolvePackage("m", root)).toBe(join(root, "node_modules/m/esm/m.js"));
    expect(resolvePackage("n", root)).toBe(join(root, "node_modules/n/lib/n.js"));
    expect(resolvePackage("o", root)).toBe(join(root, "node_modules/o/index.js"));
    expect(resolvePackage("@s/q", root)).toBe(join(root, "node_modules/@s/q/dist/q.js"));
  });

  test("walks up from the importer's folder; undefined when no folder has it", () => {
    const root = project({ up: { json: { main: "./dist/up.js" }, files: ["dist/up.js"] } });
    const deep = join(root, "plugins/x/y");
    mkdirSync(deep, { recursive: true });
    expect(resolvePackage("up", deep)).toBe(join(root, "node_modules/up/dist/up.js"));
    expect(resolvePackage("not-installed-anywhere", deep)).toBeUndefined();
  });
});
