/**
 * The built-in modules. A plan names them directly: `module: shell`. Those
 * with heavy imports (node:crypto for checksum and copy, fetch's body
 * handling for http) are imported when a plan first names them, not before:
 * they cost a plan that does not use them nothing. The import() specifiers
 * are written out so that the compiled binary includes every module. The
 * small ones are imported with this file: their code costs less than an
 * import() of a chunk of its own on every run's path.
 */
import type { ModuleDefinition } from "../core/mod.ts";
import debug from "./debug.ts";
import shell from "./shell.ts";
import sleep from "./sleep.ts";

// Each module's input type differs; the loader validates inputs at run time.
// deno-lint-ignore no-explicit-any
type Import = () => Promise<{ default: ModuleDefinition<any> }>;

export const builtinModules: Readonly<Record<string, Import>> = {
  checksum: () => import("./checksum.ts"),
  copy: () => import("./copy.ts"),
  debug: () => Promise.resolve({ default: debug }),
  http: () => import("./http.ts"),
  shell: () => Promise.resolve({ default: shell }),
  sleep: () => Promise.resolve({ default: sleep }),
};
