/**
 * `fanout check plugin.ts [--json]`: loads a plugin as a run would and shows
 * what fanout sees in it — its hint, resources, input schema (as JSON Schema)
 * and description — without running it. A plugin that cannot be loaded
 * throws the PluginError a run would (exit 2, the same message).
 */
import { basename, extname, resolve } from "node:path";
import type { JsonSchema } from "@valibot/to-json-schema";
import { describeError } from "../errors.ts";
import { loadPlugin } from "../loader.ts";
import type { LoadedModule } from "../module.ts";
import { inputJsonSchema } from "../plan/json_schema.ts";

export interface PluginReport {
  /** The name a plan would give it by default: the file name without extension. */
  name: string;
  source: string;
  description: string | null;
  hint: LoadedModule["hint"];
  resources: LoadedModule["resources"];
  /** The input schema as JSON Schema; null when the plugin declares none. */
  input: JsonSchema | null;
  /** Why the input schema cannot be shown as JSON Schema (it is still checked at run time). */
  input_note?: string;
}

export async function checkPlugin(path: string): Promise<PluginReport> {
  const source = resolve(path);
  const module = await loadPlugin(basename(source, extname(source)), source);
  const report: PluginReport = {
    name: module.name,
    source,
    description: module.description ?? null,
    hint: module.hint,
    resources: module.resources,
    input: null,
  };
  const vendor = (module.input?.["~standard"] as { vendor?: string } | undefined)?.vendor;
  if (module.input && vendor !== "valibot") {
    report.input_note = `a ${vendor ?? "non-valibot"} schema: shown only when it is valibot's (it is still checked at run time)`;
  } else if (module.input) {
    try {
      report.input = inputJsonSchema(module.input);
    } catch (error) {
      report.input_note = `not expressible as JSON Schema: ${describeError(error)}`;
    }
  }
  return report;
}

/** The report for people: one fact a line, the input schema as indented JSON. */
export function formatReport(r: PluginReport): string {
  const lines = [
    `plugin:      ${r.source}`,
    `name:        ${r.name}`,
    `description: ${r.description ?? "(none: export const description = \"…\")"}`,
    `hint:        ${JSON.stringify(r.hint)}`,
    `resources:   ${Object.keys(r.resources).length > 0 ? JSON.stringify(r.resources) : "(none)"}`,
  ];
  if (r.input) lines.push(`input:\n${JSON.stringify(r.input, null, 2).replace(/^/gm, "  ")}`);
  else lines.push(`input:       ${r.input_note ?? "(no schema: with: is passed as written)"}`);
  return `${lines.join("\n")}\n`;
}
