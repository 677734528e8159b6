/**
 * The same words for a plugin that cannot be imported, whichever runtime
 * tried: Bun from source, Deno and the compiled binary (which bundles the
 * plugin first) each say "package not found" and "no such export" in their
 * own way, Deno with ANSI colours. Syntax errors are read by syntax_error.ts.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import process from "node:process";
import type { SourcePosition } from "../errors.ts";
import { nodeUrl } from "./lazy_builtins.ts";
import { splitSpecifier } from "./resolve_package.ts";

/** A package a plugin (or one of its files) imports that is installed nowhere above it. */
export class MissingPackageError extends Error {
  override name = "MissingPackageError";
  constructor(readonly packageName: string, readonly importer: string) {
    super(missingPackageText(packageName, importer));
  }
}

function missingPackageText(name: string, importer: string): string {
  return `cannot find package "${name}" imported from ${importer}: install it beside the plugin ` +
    `(run \`npm install ${name}\` in ${dirname(importer)} or a folder above it)`;
}

export interface ImportProblem {
  detail: string;
  position?: SourcePosition;
}

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Text without terminal colour codes. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** A missing package or a missing export, in fanout's words; undefined for anything else. */
export function importProblemOf(error: unknown, pluginPath: string): ImportProblem | undefined {
  try {
    return missingPackage(error) ?? missingExport(error, pluginPath);
  } catch {
    return undefined; // a thrown value whose properties cannot be read is neither
  }
}

function missingPackage(error: unknown): ImportProblem | undefined {
  if (error instanceof MissingPackageError) return { detail: `could not be loaded: ${error.message}` };
  const e = error as { name?: unknown; code?: unknown; specifier?: unknown; referrer?: unknown; message?: unknown } | null;
  if (typeof e !== "object" || e === null || e.code !== "ERR_MODULE_NOT_FOUND") return undefined;
  let specifier: string | undefined, importer: string | undefined;
  if (e.name === "ResolveMessage" && typeof e.specifier === "string" && typeof e.referrer === "string") {
    [specifier, importer] = [e.specifier, e.referrer]; // Bun
  } else if (typeof e.message === "string") {
    // Deno: 'Import "x" not a dependency …\n    at file:///plugin.ts:3:25'
    const text = stripAnsi(e.message);
    const found = /^Import "([^"]+)" not a dependency/.exec(text);
    const at = /\bat (file:\/\/\S+?):\d+:\d+\s*$/.exec(text);
    if (found && at) [specifier, importer] = [found[1], nodeUrl().fileURLToPath(at[1]!)];
  }
  if (!specifier || !importer || !/^[^./]/.test(specifier) || specifier.includes(":")) return undefined;
  return { detail: `could not be loaded: ${missingPackageText(splitSpecifier(specifier)[0], importer.replace(/^file:\/\//, ""))}` };
}

function missingExportDetail(name: string, module: string): string {
  return `could not be loaded: ${module} has no export named "${name}"`;
}

function missingExport(error: unknown, pluginPath: string): ImportProblem | undefined {
  const messages = error instanceof AggregateError ? error.errors : [error];
  for (const m of messages as { name?: unknown; message?: unknown; position?: { file: string; line: number; column: number } | null }[]) {
    if (typeof m !== "object" || m === null || typeof m.message !== "string") continue;
    const text = stripAnsi(m.message);
    // The binary's bundler: 'No matching export in "../x/helper.ts" for import "name"', placed at the import.
    let found = /^No matching export in "([^"]+)" for import "([^"]+)"/.exec(text);
    if (found && m.position) {
      const { file, line, column } = m.position;
      return { detail: missingExportDetail(found[2]!, resolve(process.cwd(), found[1]!)), position: { file, line, col: column } };
    }
    // Deno: "The requested module './helper.ts' does not provide an export named 'name' at file:///p.ts:3:10"
    found = /The requested module '([^']+)' does not provide an export named '([^']+)'(?:\s+at (file:\/\/\S+?):(\d+):(\d+))?/.exec(text);
    if (found) {
      const file = found[3] ? nodeUrl().fileURLToPath(found[3]) : pluginPath;
      const module = found[1]!.startsWith(".") ? resolve(dirname(file), found[1]!) : found[1]!;
      const position = found[3] ? { file, line: Number(found[4]), col: Number(found[5]) } : undefined;
      return { detail: missingExportDetail(found[2]!, module), position };
    }
    // Bun from source: "Export named 'name' not found in module '/abs/helper.ts'." — no position: look for the import in the plugin.
    found = /^Export named '([^']+)' not found in module '([^']+)'/.exec(text);
    if (found) return { detail: missingExportDetail(found[1]!, found[2]!), position: importPosition(pluginPath, found[1]!, found[2]!) };
  }
  return undefined;
}

const NAMED_IMPORT = /\bimport\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/g;

/** Where the plugin file's own import of `name` from `module` is, if it has one. */
function importPosition(pluginPath: string, name: string, module: string): SourcePosition | undefined {
  const text = readFileSync(pluginPath, "utf8");
  for (const match of text.matchAll(NAMED_IMPORT)) {
    const spec = match[2]!;
    const target = spec.startsWith(".") ? resolve(dirname(pluginPath), spec) : spec;
    if (target !== module && !module.startsWith(`${target}.`) && !module.startsWith(`${target}/index.`)) continue;
    const names = match[1]!;
    const at = names.search(new RegExp(`(?<![\\w$])${name.replace(/\$/g, "\\$")}(?![\\w$])`));
    if (at < 0) continue;
    const offset = match.index! + match[0].indexOf("{") + 1 + at;
    const before = text.slice(0, offset).split("\n");
    return { file: pluginPath, line: before.length, col: before.at(-1)!.length + 1 };
  }
  return undefined;
}
