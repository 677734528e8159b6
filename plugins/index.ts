/**
 * The built-in modules. A plan names them directly: `module: shell`. Each is
 * imported when a plan first names it, not before: their code and what it
 * imports (node:crypto for checksum and copy, say) cost a plan that does not
 * use them nothing. The import() specifiers are written out so that the
 * compiled binary includes every module.
 */
import type { ModuleDefinition } from "../core/mod.ts";

// Each module's input type differs; the loader validates inputs at run time.
// deno-lint-ignore no-explicit-any
type Import = () => Promise<{ default: ModuleDefinition<any> }>;

export const builtinModules: Readonly<Record<string, Import>> = {
  checksum: () => import("./checksum.ts"),
  copy: () => import("./copy.ts"),
  debug: () => import("./debug.ts"),
  http: () => import("./http.ts"),
  shell: () => import("./shell.ts"),
  sleep: () => import("./sleep.ts"),
};
