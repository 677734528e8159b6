/**
 * The built-in modules, imported statically so that they are part of the
 * compiled binary. A plan names them directly: `module: shell`.
 */
import type { ModuleDefinition } from "../core/mod.ts";
import checksum from "./checksum.ts";
import copy from "./copy.ts";
import debug from "./debug.ts";
import http from "./http.ts";
import shell from "./shell.ts";
import sleep from "./sleep.ts";

// Each module's input type differs; the loader validates inputs at run time.
// deno-lint-ignore no-explicit-any
export const builtinModules: Readonly<Record<string, ModuleDefinition<any>>> = {
  checksum,
  copy,
  debug,
  http,
  shell,
  sleep,
};
