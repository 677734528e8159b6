/**
 * Shared by plugin tests: copies of fixtures/plugins folders outside the
 * project (so nothing of ours is found by walking up), with their npm
 * dependencies copied from the project's own node_modules: no network, and
 * nothing under fixtures/ that git would have to ignore.
 */
import { cpSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../test_helpers.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const PLUGIN_FIXTURES = join(ROOT, "fixtures/plugins");

/** A copy of fixtures/plugins/<name> in a fresh temp dir, with `packages` in its node_modules. */
export function copyPluginFolder(name: string, packages: string[] = []): string {
  const dir = join(tempDir("fanout-plugin-"), name);
  cpSync(join(PLUGIN_FIXTURES, name), dir, { recursive: true });
  for (const pkg of packages) {
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    cpSync(join(ROOT, "node_modules", pkg), join(dir, "node_modules", pkg), { recursive: true });
  }
  return dir;
}

/** The events of an NDJSON stream. */
export function ndjson(text: string): Record<string, unknown>[] {
  return text.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

/** task_end events of an NDJSON stream, by instance id. */
export function endsById(text: string): Record<string, { status: string; error: string | null; data: Record<string, unknown> }> {
  const ends = ndjson(text).filter((e) => e.type === "task_end");
  return Object.fromEntries(ends.map((e) => [e.id as string, e as never]));
}
