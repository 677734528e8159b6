/**
 * Imports a user's module file at run time. Under Bun (and the compiled
 * binary) the bare specifier "fanout" is served by a virtual module holding
 * the values of this very program's core/mod.ts (sdk.ts, and valibot as
 * `v`), so a plugin that imports it at run time shares our instance (and
 * our classes) instead of loading a second copy.
 * Under Deno the same mapping comes from deno.json's import map, which Deno
 * applies to every module of the run, plugins outside the project included.
 * The compiled binary cannot resolve most npm packages by itself, so there a
 * plugin is bundled first (bundle_plugin.ts), and the bundle kept in
 * `cacheDir` when one is given (plugin_cache.ts).
 */
import * as sdk from "../sdk.ts";
import { nodeUrl } from "./lazy_builtins.ts";
import { isBun, isCompiledBinary } from "./runtime.ts";

let registered: Promise<void> | undefined;

/**
 * "fanout" as plugins see it (core/mod.ts's values): sdk.ts, and valibot as
 * `v`, imported here, when the first plugin is, rather than re-exported as a
 * namespace that every run would build at start (core/deps_valibot.ts).
 */
function registerSdkModule(): Promise<void> {
  registered ??= (async () => {
    if (!isBun) return;
    const v = await import("valibot");
    Bun.plugin({
      name: "fanout-sdk",
      setup(build) {
        build.module("fanout", () => ({ exports: { ...sdk, v }, loader: "object" }));
      },
    });
  })();
  return registered;
}

/**
 * Each file is imported once per process: a plan may be loaded twice (the
 * second time to report a problem with positions), and a plugin's top-level
 * code must not run twice for it.
 */
const imported = new Map<string, Promise<Record<string, unknown>>>();

export interface ImportOptions {
  /** Where the compiled binary may keep plugin bundles (`.fanout/cache` beside the plan). */
  cacheDir?: string;
}

/**
 * Plugin paths served by another file: on a worker, a published run's plugin
 * (by the submitter's path) is its bundle, fetched by content hash
 * (core/distribute/), so the worker runs exactly the submitter's code.
 */
const substitutes = new Map<string, string>();

export function substitutePlugin(absolutePath: string, file: string): void {
  substitutes.set(absolutePath, file);
}

export function hasSubstitute(absolutePath: string): boolean {
  return substitutes.has(absolutePath);
}

export function importPlugin(absolutePath: string, options: ImportOptions = {}): Promise<Record<string, unknown>> {
  let exports = imported.get(absolutePath);
  if (exports === undefined) imported.set(absolutePath, exports = importOnce(absolutePath, options));
  return exports;
}

async function importOnce(absolutePath: string, options: ImportOptions): Promise<Record<string, unknown>> {
  await registerSdkModule();
  let file = absolutePath;
  const substitute = substitutes.get(absolutePath);
  if (substitute !== undefined) return await import(nodeUrl().pathToFileURL(substitute).href) as Record<string, unknown>;
  if (isCompiledBinary()) {
    const [{ bundlePlugin }, { installRequireHook }] = await Promise.all([import("./bundle_plugin.ts"), import("./require_hook.ts")]);
    installRequireHook();
    file = await bundlePlugin(absolutePath, options);
  }
  return await import(nodeUrl().pathToFileURL(file).href) as Record<string, unknown>;
}
