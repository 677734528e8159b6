/**
 * Bundles a plugin and its npm dependencies into one ES module file, for the
 * compiled binary: its own resolver fails on most packages (entry file in a
 * subfolder), so bare specifiers are resolved here, with resolve_package.ts,
 * to the file Bun would pick from source. "fanout", `node:*` and `bun:*` stay
 * imports: the virtual "fanout" module and the runtime serve them when the
 * bundle is imported. Bun only.
 *
 * So that a bundled plugin behaves as it does from source, each bundled file
 * keeps its own `import.meta.url` (and `.dirname`, `.filename`, `.dir`,
 * `.path`, `.file`): they are written into it as the file's own values, and
 * `createRequire(import.meta.url)` then resolves from the plugin's folder.
 * Every file read is recorded: the bundle cache checks them (plugin_cache.ts).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { MissingPackageError } from "./load_error.ts";
import { cachedBundle, hashBytes, storeBundle } from "./plugin_cache.ts";
import { type ImportKind, resolvePackage, splitSpecifier } from "./resolve_package.ts";
import { makeTempDir } from "./temp_dir.ts";

const BARE = /^[^./]/;
const SOURCE = /\.[mc]?[jt]sx?$/;
const META = /\bimport\.meta\.(url|filename|dirname|dir|path|file)\b/g;

/** The bundle's text and the files it was made from, each with the hash of what was read. */
export interface Bundle {
  code: string;
  inputs: [file: string, hash: string][];
}

/** Reads a file once, for its text and for the hash of its bytes as read. */
function readInput(state: BuildState, file: string): string {
  const bytes = readFileSync(file);
  state.inputs.set(file, hashBytes(bytes));
  return bytes.toString("utf8");
}

function loaderFor(path: string): "ts" | "tsx" | "js" | "jsx" {
  const ext = path.slice(path.lastIndexOf(".") + 1);
  if (ext === "tsx" || ext === "jsx") return ext;
  return ext.includes("t") ? "ts" : "js";
}

/** `import.meta.<key>` of `file` as a literal. */
function metaValue(file: string, key: string): string {
  const values: Record<string, string> = {
    url: pathToFileURL(file).href,
    filename: file,
    path: file,
    dirname: dirname(file),
    dir: dirname(file),
    file: basename(file),
  };
  return JSON.stringify(values[key]);
}

/** The nearest package.json above a package's file: how it resolved depends on it. */
function packageJsonOf(file: string): string | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return join(dir, "package.json");
  }
  return undefined;
}

interface BuildState {
  inputs: Map<string, string>;
  missing?: MissingPackageError;
}

function bundlerPlugin(state: BuildState): Bun.BunPlugin {
  return {
    name: "fanout-plugin-bundle",
    setup(build) {
      build.onResolve({ filter: BARE }, (args) => {
        const spec = args.path;
        if (spec === "fanout" || spec.startsWith("bun:") || isBuiltin(spec)) return { path: spec, external: true };
        if (spec.startsWith("#")) return undefined; // package.json "imports": Bun resolves these itself
        const kind: ImportKind = args.kind === "require-call" ? "require" : "import";
        const found = resolvePackage(spec, args.resolveDir || dirname(args.importer), kind);
        if (found) {
          const manifest = packageJsonOf(found);
          if (manifest && !state.inputs.has(manifest)) readInput(state, manifest);
          return { path: found };
        }
        throw state.missing ??= new MissingPackageError(splitSpecifier(spec)[0], args.importer);
      });
      build.onLoad({ filter: SOURCE }, (args) => {
        const text = readInput(state, args.path);
        const contents = text.includes("import.meta") ? text.replace(META, (_, key: string) => metaValue(args.path, key)) : text;
        return { contents, loader: loaderFor(args.path) };
      });
      build.onLoad({ filter: /\.json$/ }, (args) => {
        return { contents: readInput(state, args.path), loader: "json" };
      });
    },
  };
}

/** Bundles `pluginPath` in memory. Errors are thrown as Bun.build reports them. */
export async function buildBundle(pluginPath: string): Promise<Bundle> {
  const state: BuildState = { inputs: new Map() };
  const result = await Bun.build({
    entrypoints: [pluginPath],
    target: "bun",
    format: "esm",
    sourcemap: "inline",
    plugins: [bundlerPlugin(state)],
    throw: false,
  });
  if (!result.success) {
    const errors = result.logs.filter((l) => l.level === "error");
    if (state.missing) throw state.missing;
    // The same shape Bun throws when it imports a file with a syntax error, so syntax_error.ts reads both.
    throw new AggregateError(errors, errors.map((l) => l.message).join("; ") || "bundling failed");
  }
  const [output] = result.outputs;
  if (!output) throw new Error("Internal error: Bun.build succeeded without an output");
  return { code: await output.text(), inputs: [...state.inputs].sort(([a], [b]) => a < b ? -1 : 1) };
}

let outDir: string | undefined;
let written = 0;

/** One directory per process for bundles that are not cached, removed when the process exits. */
function scratchDir(): string {
  if (outDir) return outDir;
  const dir = makeTempDir("fanout-plugins-");
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return outDir = dir;
}

/**
 * Bundles `pluginPath`; returns the path of the bundle, ready to import.
 * With `cacheDir`, an unchanged plugin is not bundled again (plugin_cache.ts).
 */
export async function bundlePlugin(pluginPath: string, options: { cacheDir?: string } = {}): Promise<string> {
  if (options.cacheDir) {
    const hit = cachedBundle(options.cacheDir, pluginPath);
    if (hit) return hit;
  }
  const bundle = await buildBundle(pluginPath);
  const stored = options.cacheDir ? storeBundle(options.cacheDir, pluginPath, bundle) : undefined;
  if (stored) return stored;
  const file = join(scratchDir(), `${written++}-${basename(pluginPath).replace(/\.[^.]*$/, "")}.mjs`);
  writeFileSync(file, bundle.code);
  return file;
}
