/**
 * Imports a user's module file at run time. Under Bun (and the compiled
 * binary) the bare specifier "fanout" is served by a virtual module holding
 * this very program's core/mod.ts, so a plugin that imports it at run time
 * shares our instance (and our classes) instead of loading a second copy.
 * Under Deno the same mapping comes from deno.json's import map.
 */
import { pathToFileURL } from "node:url";
import * as sdk from "../mod.ts";
import { isBun } from "./runtime.ts";

let registered = false;

function registerSdkModule(): void {
  if (registered || !isBun) return;
  registered = true;
  Bun.plugin({
    name: "fanout-sdk",
    setup(build) {
      build.module("fanout", () => ({ exports: { ...sdk }, loader: "object" }));
    },
  });
}

export async function importPlugin(absolutePath: string): Promise<Record<string, unknown>> {
  registerSdkModule();
  return await import(pathToFileURL(absolutePath).href) as Record<string, unknown>;
}
