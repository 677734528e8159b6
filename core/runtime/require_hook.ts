/**
 * For the compiled binary: `require()` of a package from a plugin (through
 * `createRequire(import.meta.url)`, or from a CommonJS file it loads) finds
 * the file Bun would find from source. The binary's own resolver misses
 * packages whose entry sits in a subfolder; when it fails on a bare name,
 * resolve_package.ts is asked instead, from the requiring file's folder.
 * Bun honours a replaced `Module._resolveFilename`, as Node does.
 */
import Module, { isBuiltin } from "node:module";
import { dirname } from "node:path";
import { resolvePackage } from "./resolve_package.ts";

type ResolveFilename = (request: string, parent: { filename?: string; id?: string } | undefined, ...rest: unknown[]) => string;

let installed = false;

export function installRequireHook(): void {
  if (installed) return;
  installed = true;
  const moduleClass = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = moduleClass._resolveFilename;
  moduleClass._resolveFilename = function (request, parent, ...rest) {
    try {
      return original.call(this, request, parent, ...rest);
    } catch (error) {
      const from = parent?.filename ?? parent?.id;
      if (!/^[^./#]/.test(request) || isBuiltin(request) || !from?.startsWith("/")) throw error;
      const found = resolvePackage(request, dirname(from), "require");
      if (found === undefined) throw error;
      return found;
    }
  };
}
