/**
 * Finds the file a bare specifier ("yaml", "@scope/pkg/sub") names, the way
 * Bun does when it runs a plugin from source: walk up from the importer to
 * `node_modules/<name>`, then follow the package's `exports` (conditions
 * `bun`, `import` or `require`, `default`, `node`, in the package's own key
 * order), else `main`, else `module`. The compiled binary's own resolver
 * cannot find packages whose entry sits in a subfolder, so the plugin bundler
 * resolves them with this instead, and must pick the same file Bun would.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The `exports` conditions Bun's runtime accepts, by how the package is
 * reached (checked against Bun 1.4: `module`, `deno`, `worker`, `browser`
 * are not among them, and an `import` finds no `require`-only entry).
 */
const CONDITIONS = {
  import: new Set(["bun", "import", "default", "node"]),
  require: new Set(["bun", "require", "default", "node"]),
};

export type ImportKind = keyof typeof CONDITIONS;

/** Splits "@scope/pkg/a/b" into ["@scope/pkg", "./a/b"]. */
export function splitSpecifier(specifier: string): [name: string, subpath: string] {
  const parts = specifier.split("/");
  const count = specifier.startsWith("@") ? 2 : 1;
  const rest = parts.slice(count).join("/");
  return [parts.slice(0, count).join("/"), rest ? `./${rest}` : "."];
}

/** The absolute path `specifier` resolves to from `fromDir`, or undefined if no package provides it. */
export function resolvePackage(specifier: string, fromDir: string, kind: ImportKind = "import"): string | undefined {
  const [name, subpath] = splitSpecifier(specifier);
  for (let dir = fromDir;; dir = dirname(dir)) {
    const pkgDir = join(dir, "node_modules", name);
    if (existsSync(join(pkgDir, "package.json"))) return entryOf(pkgDir, subpath, CONDITIONS[kind]);
    if (dirname(dir) === dir) return undefined;
  }
}

function entryOf(pkgDir: string, subpath: string, conditions: Set<string>): string | undefined {
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as Record<string, unknown>;
  if (pkg.exports !== undefined) {
    const target = matchExports(pkg.exports, subpath, conditions);
    return target === undefined ? undefined : existing(join(pkgDir, target));
  }
  if (subpath !== ".") return existing(join(pkgDir, subpath));
  const field = (name: string) => typeof pkg[name] === "string" ? existing(join(pkgDir, pkg[name])) : undefined;
  const index = () => existing(join(pkgDir, "index"));
  // Bun's order: `main` first; with no `main` field the folder's index comes
  // before `module`, with a `main` that names no file `module` comes first.
  return typeof pkg.main === "string" ? field("main") ?? field("module") ?? index() : index() ?? field("module");
}

function matchExports(exports: unknown, subpath: string, conditions: Set<string>): string | undefined {
  // `"exports": "./x.js"` or a conditions object both mean the "." entry.
  const isSubpathMap = typeof exports === "object" && exports !== null && !Array.isArray(exports) &&
    Object.keys(exports).some((k) => k.startsWith("."));
  if (!isSubpathMap) return subpath === "." ? pick(exports, conditions) : undefined;
  const map = exports as Record<string, unknown>;
  if (subpath in map) return pick(map[subpath], conditions);
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const [prefix, suffix] = [key.slice(0, star), key.slice(star + 1)];
    if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= key.length - 1) {
      const middle = subpath.slice(prefix.length, subpath.length - suffix.length);
      return pick(value, conditions)?.replaceAll("*", middle);
    }
  }
  return undefined;
}

/** The first target whose condition we accept, in the package's own key order (Node's rule). */
function pick(target: unknown, conditions: Set<string>): string | undefined {
  if (typeof target === "string") return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const found = pick(t, conditions);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof target !== "object" || target === null) return undefined;
  for (const [condition, value] of Object.entries(target)) {
    if (!conditions.has(condition)) continue;
    const found = pick(value, conditions);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The file itself, or the extension and index fallbacks for `main`. */
function existing(path: string): string | undefined {
  for (const candidate of [path, `${path}.js`, `${path}.mjs`, `${path}.cjs`, `${path}.json`, join(path, "index.js")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}
