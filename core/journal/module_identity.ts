/**
 * What a module is, for instance keys: a built-in is its name and fanout's
 * version; a plugin is its path and a hash of its code — its own file, the
 * local files it imports (followed), and the name and version of each npm
 * package it imports. Changing any of them re-runs its instances on resume.
 *
 * Imports are found by reading the source for import specifiers, not by
 * running it: a specifier that is not really an import (in a comment, say)
 * at worst adds a file to the hash.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, resolve } from "node:path";
import type { LoadedModule } from "../module.ts";
import { resolvePackage, splitSpecifier } from "../runtime/resolve_package.ts";
import { VERSION } from "../version.ts";
import { sha256 } from "../runtime/sha256.ts";

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"'\n]+)["']/g;
const EXTENSIONS = ["", ".ts", ".mts", ".js", ".mjs", ".tsx", ".jsx", "/index.ts", "/index.js"];

export function moduleIdentity(module: LoadedModule): string {
  if (module.source.startsWith("builtin:")) return `${module.source}@${VERSION}`;
  return `${module.source}#${pluginCodeHash(module.source)}`;
}

/** A hash over the plugin's file and everything local it imports, in the order met. */
export function pluginCodeHash(entry: string): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return parts.push(`${file}\u0000missing`), undefined;
    }
    parts.push(`${file}\u0000${sha256(text)}`);
    for (const match of text.matchAll(SPECIFIER)) {
      const spec = match[1]!;
      if (spec.startsWith(".") || spec.startsWith("/")) {
        const found = localFile(resolve(dirname(file), spec));
        if (found) visit(found);
      } else if (spec !== "fanout" && !isBuiltin(spec) && !spec.startsWith("bun:") && !spec.startsWith("npm:") && !spec.startsWith("jsr:")) {
        parts.push(`package ${spec}\u0000${packageVersion(spec, dirname(file))}`);
      }
    }
  };
  visit(entry);
  return sha256(parts.join("\n"));
}

function localFile(base: string): string | undefined {
  for (const ext of EXTENSIONS) {
    const candidate = base + ext;
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** "name@version" of the package a bare specifier reaches from `dir`, or "unresolved". */
function packageVersion(spec: string, dir: string): string {
  const [name] = splitSpecifier(spec);
  const entry = resolvePackage(spec, dir);
  if (!entry) return "unresolved";
  // The package root: the node_modules/<name> folder above its entry file.
  const marker = `${join("node_modules", name)}/`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) return "unresolved";
  try {
    const pkg = JSON.parse(readFileSync(join(entry.slice(0, at + marker.length), "package.json"), "utf8")) as { version?: string };
    return `${name}@${pkg.version ?? "?"}`;
  } catch {
    return "unresolved";
  }
}
