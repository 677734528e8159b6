/**
 * The plan's JSON Schema, derived from the valibot schema in schema.ts (never
 * a second copy that could drift), for editors: a plan file that starts with
 * `# yaml-language-server: $schema=fanout.schema.json` gets completion,
 * descriptions and checks. Also converts a plugin's input schema for
 * `fanout check`. The only importer of @valibot/to-json-schema.
 *
 * The contract: never stricter than fanout. Every plan fanout accepts
 * validates; the JSON Schema may accept some that fanout refuses (a duration
 * like "5 parsecs", a task that needs an unknown task). What the converter
 * cannot say is decided here, case by case:
 * - custom `check` actions (durations, "a mapping, not a list") are dropped:
 *   looser;
 * - pipelines are converted up to their first `transform` (typeMode
 *   "input"): a size is "a string or a number", a hint string its picklist;
 * - the plan's `tasks:` (and a group's `parallel:`) hold tasks or groups,
 *   which load.ts tells apart by the `parallel` key: here, anyOf the two.
 */
import { type JsonSchema, toJsonSchema } from "@valibot/to-json-schema";
import * as v from "../deps_valibot.ts";
import { GroupSchema, PlanSchema, TaskSchema } from "./schema.ts";

/** Draft-07: what yaml-language-server (VS Code's YAML extension, and others built on it) implements. */
export const JSON_SCHEMA_DRAFT = "http://json-schema.org/draft-07/schema#";

type Override = (schema: v.GenericSchema, converted: JsonSchema) => JsonSchema | undefined;

function convert(schema: v.GenericSchema, override?: Override, definitions?: Record<string, v.GenericSchema>): JsonSchema {
  return toJsonSchema(schema, {
    target: "draft-07",
    typeMode: "input",
    // Custom checks have no JSON form; dropping them can only make the schema looser.
    ignoreActions: ["check"],
    // Anything else it cannot convert is an error here, to be decided like the cases above.
    errorMode: "throw",
    definitions,
    overrideSchema: ({ valibotSchema, jsonSchema }) => {
      const schema = valibotSchema as v.GenericSchema;
      const own = override?.(schema, jsonSchema);
      return "entries" in schema ? withFields(schema.entries as v.ObjectEntries, own ?? jsonSchema) : own;
    },
  });
}

/**
 * The converter calls overrides for the first schema of a pipe, not for the
 * pipe: what it cannot see there is mended from the object that holds it.
 */
function withFields(entries: v.ObjectEntries, converted: JsonSchema): JsonSchema {
  const properties = { ...(converted.properties as Record<string, JsonSchema> | undefined) };
  for (const [key, entry] of Object.entries(entries)) {
    const field = properties[key];
    if (field === undefined || typeof field !== "object" || "$ref" in field) continue;
    const inner = unwrapped(entry);
    // A description written after a transform is past where typeMode "input" stops reading.
    const description = v.getDescription(inner);
    properties[key] = {
      ...field,
      ...(isMapping(inner) ? { type: "object" } : {}),
      ...(description !== undefined && field.description === undefined ? { description } : {}),
    };
  }
  return { ...converted, properties };
}

/** The first schema of a pipe, nested pipes flattened: the one the converter hands to overrideSchema. */
function root(schema: v.GenericSchema): v.GenericSchema {
  return "pipe" in schema ? root((schema.pipe as v.GenericSchema[])[0]!) : schema;
}

/** The schema inside v.optional(…) (or the schema itself). */
function unwrapped(schema: v.GenericSchema): v.GenericSchema {
  return "wrapped" in schema ? unwrapped(schema.wrapped as v.GenericSchema) : schema;
}

/**
 * `v.pipe(v.unknown(), v.check(isMapping), v.record(...))` (schema.ts's
 * mapping()): typeMode "input" stops before the record, which would leave `{}`.
 */
function isMapping(schema: v.GenericSchema): boolean {
  if (schema.type !== "unknown" || !("pipe" in schema)) return false;
  const pipe = schema.pipe as readonly { kind: string; type: string }[];
  return pipe.some((item, i) => i > 0 && item.kind === "schema" && item.type === "record");
}

/**
 * Any valibot schema (a plugin's `input`) as JSON Schema, by the same rules
 * as the plan's. Throws if it holds something with no JSON form.
 */
export function inputJsonSchema(schema: v.GenericSchema): JsonSchema {
  return convert(schema);
}

/** The plan's JSON Schema, with `$schema`, a title, and tasks and groups as definitions. */
export function planJsonSchema(): JsonSchema {
  const step = { anyOf: [{ $ref: "#/$defs/task" }, { $ref: "#/$defs/group" }] };
  const override: Override = (schema, converted) => {
    if (schema === root(PlanSchema.entries.tasks) || schema === root(GroupSchema.entries.parallel)) return { ...converted, items: step };
    // A task gives module or race (core/plan/steps.ts checkShape): say so, so an editor can too.
    if (schema === TaskSchema) {
      return { ...converted, oneOf: [{ required: ["module"] }, { required: ["race"], not: { required: ["with"] } }] };
    }
    return undefined;
  };
  const schema = convert(PlanSchema, override, { task: TaskSchema, group: GroupSchema });
  return {
    $schema: JSON_SCHEMA_DRAFT,
    title: "fanout plan",
    ...schema,
  };
}
