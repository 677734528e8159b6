/**
 * The compiled binary's plugin bundles, kept in `.fanout/cache/plugins/`
 * beside the plan so an unchanged plugin is not bundled again on every run.
 *
 * Two files per plugin:
 * - `<key>.json`, key = hash of the plugin's path and the fanout build: the
 *   hash of every file the bundle was made from (the plugin, its local
 *   imports, each package file and package.json it reached) and the hash of
 *   the bundle;
 * - `<bundle hash>.mjs`, the bundle, named by the hash of its own bytes.
 * A hit needs every input to hash as it did and the bundle to hash to its
 * name, so an edited plugin, an upgraded package (direct or not) or a
 * damaged file is bundled again, never used. Both are written to a temp name
 * and renamed, so a reader never sees half a file. The cache is an
 * optimisation: any failure to read or write it means bundling as if it
 * were not there. Deleting `.fanout/cache` is always safe.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import process from "node:process";
import { sha256 } from "./sha256.ts";
import { versionLine } from "../version.ts";
import type { Bundle } from "./bundle_plugin.ts";

interface Entry {
  plugin: string;
  fanout: string;
  inputs: [file: string, hash: string][];
  bundle: string;
}

/** The files of the bundle cache under `cacheDir`. */
function pluginsDir(cacheDir: string): string {
  return join(cacheDir, "plugins");
}

function entryFile(cacheDir: string, pluginPath: string): string {
  return join(pluginsDir(cacheDir), `${sha256(`${pluginPath}\u0000${versionLine()}`)}.json`);
}

/** The hash the cache compares: of a file's bytes. */
export function hashBytes(bytes: Uint8Array): string {
  return sha256(Buffer.from(bytes).toString("latin1"));
}

function hashOf(file: string): string {
  return hashBytes(readFileSync(file));
}

/** The path of a cached bundle of `pluginPath` that is still exactly right, or undefined. */
export function cachedBundle(cacheDir: string, pluginPath: string): string | undefined {
  try {
    const entry = JSON.parse(readFileSync(entryFile(cacheDir, pluginPath), "utf8")) as Entry;
    if (entry.plugin !== pluginPath || entry.fanout !== versionLine() || !Array.isArray(entry.inputs)) return undefined;
    if (!entry.inputs.every(([file, hash]) => hashOf(file) === hash)) return undefined;
    const bundle = join(pluginsDir(cacheDir), `${entry.bundle}.mjs`);
    return hashOf(bundle) === entry.bundle ? bundle : undefined;
  } catch {
    return undefined; // no entry, an input gone, unreadable or corrupt: bundle again
  }
}

/** Stores a bundle of `pluginPath`; returns its path, or undefined if the cache cannot be written. */
export function storeBundle(cacheDir: string, pluginPath: string, bundle: Bundle): string | undefined {
  try {
    const dir = pluginsDir(cacheDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The cache holds code that will run: only its owner may write (or read) it.
    chmodSync(cacheDir, 0o700);
    chmodSync(dir, 0o700);
    const code = Buffer.from(bundle.code);
    const bundleHash = hashBytes(code);
    const entry: Entry = { plugin: pluginPath, fanout: versionLine(), inputs: bundle.inputs, bundle: bundleHash };
    const file = join(dir, `${bundleHash}.mjs`);
    writeAtomically(file, code);
    writeAtomically(entryFile(cacheDir, pluginPath), JSON.stringify(entry));
    return file;
  } catch {
    return undefined;
  }
}

let serial = 0;

function writeAtomically(file: string, data: string | Uint8Array): void {
  const temp = `${file}.${process.pid}.${serial++}.tmp`;
  writeFileSync(temp, data, { mode: 0o600 });
  renameSync(temp, file);
}
