/**
 * resolvePackage picks the file Bun picks from source, for the package
 * shapes plugins meet (what Bun 1.4 does was checked by importing each shape).
 */
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

  test("conditional exports in the package's key order: bun, import|require, default, node; never module or deno", () => {
    const root = project({
      a: { json: { exports: { ".": { types: "./t.d.ts", node: "./dist/node.js", default: "./browser/x.js" } } }, files: ["dist/node.js", "browser/x.js"] },
      b: { json: { exports: { require: "./lib/b.cjs", import: "./lib/b.mjs" } }, files: ["lib/b.cjs", "lib/b.mjs"] },
      c: { json: { exports: { ".": { require: "./only.cjs" } } }, files: ["only.cjs"] },
      d: { json: { exports: { module: "./m.js", deno: "./d.js", worker: "./w.js", browser: "./b.js", bun: "./bun.js", default: "./x.js" } }, files: ["m.js", "d.js", "w.js", "b.js", "bun.js", "x.js"] },
    });
    expect(resolvePackage("a", root)).toBe(join(root, "node_modules/a/dist/node.js"));
    expect(resolvePackage("b", root)).toBe(join(root, "node_modules/b/lib/b.mjs"));
    expect(resolvePackage("b", root, "require")).toBe(join(root, "node_modules/b/lib/b.cjs"));
    // Bun's import of a require-only package fails ("Cannot find package"): so does ours.
    expect(resolvePackage("c", root)).toBeUndefined();
    expect(resolvePackage("c", root, "require")).toBe(join(root, "node_modules/c/only.cjs"));
    expect(resolvePackage("d", root)).toBe(join(root, "node_modules/d/bun.js"));
  });

  test("subpath exports, exact and with a * pattern; unexported subpaths are not found", () => {
    const root = project({
      p: { json: { exports: { ".": "./dist/i.js", "./util": "./dist/u.js", "./fp/*": "./dist/fp/*.js" } }, files: ["dist/i.js", "dist/u.js", "dist/fp/map.js"] },
    });
    expect(resolvePackage("p/util", root)).toBe(join(root, "node_modules/p/dist/u.js"));
    expect(resolvePackage("p/fp/map", root)).toBe(join(root, "node_modules/p/dist/fp/map.js"));
    expect(resolvePackage("p/secret", root)).toBeUndefined();
  });

  test("main (with its extension fallback) before module; without main, index.js before module", () => {
    const root = project({
      m: { json: { module: "./esm/m.js", main: "./cjs/m.js" }, files: ["esm/m.js", "cjs/m.js"] },
      n: { json: { main: "lib/n" }, files: ["lib/n.js"] },
      o: { json: {}, files: ["index.js"] },
      "@s/q": { json: { main: "./dist/q.js" }, files: ["dist/q.js"] },
      onlymod: { json: { module: "./esm.js" }, files: ["esm.js", "index.js"] },
      onlymod2: { json: { module: "./esm.js" }, files: ["esm.js"] },
      badmain: { json: { main: "./gone.js", module: "./esm.js" }, files: ["esm.js", "index.js"] },
    });
    expect(resolvePackage("m", root)).toBe(join(root, "node_modules/m/cjs/m.js"));
    expect(resolvePackage("onlymod", root)).toBe(join(root, "node_modules/onlymod/index.js"));
    expect(resolvePackage("onlymod2", root)).toBe(join(root, "node_modules/onlymod2/esm.js"));
    expect(resolvePackage("badmain", root)).toBe(join(root, "node_modules/badmain/esm.js"));
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
