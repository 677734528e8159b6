/**
 * Bundles a plugin and its npm dependencies into one ES module file, for the
 * compiled binary: its own resolver fails on most packages (entry file in a
 * subfolder), so bare specifiers are resolved here, with resolve_package.ts.
 * "fanout", `node:*` and `bun:*` stay imports: the virtual "fanout" module
 * and the runtime serve them when the bundle is imported. Bun only.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { resolvePackage, splitSpecifier } from "./resolve_package.ts";

const BARE = /^[^./]/;

let outDir: string | undefined;
let written = 0;

/** One directory per process for bundles, removed when the process exits. */
function bundleDir(): string {
  if (outDir) return outDir;
  const dir = mkdtempSync(join(tmpdir(), "fanout-plugins-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return outDir = dir;
}

const resolverPlugin: Bun.BunPlugin = {
  name: "fanout-resolve-packages",
  setup(build) {
    build.onResolve({ filter: BARE }, (args) => {
      const spec = args.path;
      if (spec === "fanout" || spec.startsWith("bun:") || isBuiltin(spec)) return { path: spec, external: true };
      if (spec.startsWith("#")) return undefined; // package.json "imports": Bun resolves these itself
      const found = resolvePackage(spec, args.resolveDir || dirname(args.importer));
      if (found) return { path: found };
      const [name] = splitSpecifier(spec);
      throw new Error(
        `cannot find package "${name}" imported from ${args.importer}: install it beside the plugin ` +
          `(run \`npm install ${name}\` in ${dirname(args.importer)} or a folder above it)`,
      );
    });
  },
};

/** Bundles `pluginPath`; returns the path of the bundle, ready to import. */
export async function bundlePlugin(pluginPath: string): Promise<string> {
  const result = await Bun.build({
    entrypoints: [pluginPath],
    target: "bun",
    format: "esm",
    sourcemap: "inline",
    plugins: [resolverPlugin],
    throw: false,
  });
  if (!result.success) {
    const errors = result.logs.filter((l) => l.level === "error");
    // The same shape Bun throws when it imports a file with a syntax error, so syntax_error.ts reads both.
    throw new AggregateError(errors, errors.map((l) => l.message).join("; ") || "bundling failed");
  }
  const [output] = result.outputs;
  if (!output) throw new Error("Internal error: Bun.build succeeded without an output");
  const file = join(bundleDir(), `${written++}-${basename(pluginPath).replace(/\.[^.]*$/, "")}.mjs`);
  writeFileSync(file, await output.text());
  return file;
}
