/**
 * The plan file's schema: the single source of truth for what a plan may say.
 * docs/plan.md describes it for people; load.ts maps its issues to line:col.
 */
import { v } from "../deps.ts";
import { HintSchema, ResourcesSchema } from "../hints.ts";
import { parseDuration, parseSize } from "../units.ts";

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;

const duration = (what: string) =>
  v.pipe(
    v.string(`expected ${what} as a duration like 500ms, 30s or 2m`),
    v.check((s) => parseDuration(s) !== undefined, `expected ${what} as a duration like 500ms, 30s or 2m`),
    v.transform((s) => parseDuration(s)!),
  );

const name = (what: string) =>
  v.pipe(
    v.string(`expected ${what} as a string`),
    v.regex(NAME, `expected ${what} of letters, digits, "_", ".", ":" or "-"`),
  );

const stringList = (what: string) => v.array(v.string(`expected each of ${what} to be a string`), `expected ${what} as a list`);

export const ItemsFromSchema = v.union(
  [
    v.strictObject({ glob: v.string("expected glob as a string pattern like data/*.csv") }),
    v.strictObject({ file: v.string("expected file as a path to a list, one item per line") }),
  ],
  "expected items_from as { glob: \"data/*.csv\" } or { file: list.txt }",
);

export const TaskSchema = v.strictObject({
  name: name("name"),
  module: v.string("expected module as a built-in name or a name from plugins:"),
  with: v.optional(v.record(v.string(), v.unknown(), "expected with as a mapping of inputs"), {}),
  hosts: v.optional(v.pipe(stringList("hosts"), v.minLength(1, "expected at least one host"))),
  items: v.optional(v.array(v.unknown(), "expected items as a list")),
  items_from: v.optional(ItemsFromSchema),
  needs: v.optional(stringList("needs")),
  hint: v.optional(HintSchema),
  resources: v.optional(ResourcesSchema),
  timeout: v.optional(duration("timeout")),
  retries: v.optional(
    v.pipe(v.number("expected retries as a whole number >= 0"), v.integer("expected retries as a whole number"), v.minValue(0, "expected retries >= 0")),
    0,
  ),
  retry_delay: v.optional(duration("retry_delay"), "200ms"),
});

export const STORAGE_TYPES = ["auto", "nvme", "ssd", "hdd"] as const;

const count = (what: string) =>
  v.pipe(v.number(`expected ${what} as a whole number >= 1`), v.integer(`expected ${what} as a whole number`), v.minValue(1, `expected ${what} >= 1`));

/** Run-wide pool sizes; each may be overridden by a flag of the same name. */
export const PlanResourcesSchema = v.strictObject({
  cpu_tokens: v.optional(count("cpu_tokens")),
  io_tokens: v.optional(count("io_tokens")),
  storage_type: v.optional(v.picklist(STORAGE_TYPES, `expected storage_type one of ${STORAGE_TYPES.join(", ")}`)),
  mem_free: v.optional(
    v.pipe(
      v.union([v.string(), v.number()], "expected mem_free as a size like 1GiB"),
      v.transform((s) => parseSize(s)),
      v.number("expected mem_free as a size like 1GiB"),
    ),
  ),
  mem_budget: v.optional(
    v.pipe(
      v.union([v.string(), v.number()], "expected mem_budget as a size like 8GiB"),
      v.transform((s) => parseSize(s)),
      v.number("expected mem_budget as a size like 8GiB"),
    ),
  ),
});

export const PlanSchema = v.strictObject({
  version: v.literal(1, "expected version: 1"),
  name: v.optional(name("name")),
  hosts: v.optional(v.pipe(stringList("hosts"), v.minLength(1, "expected at least one host")), ["localhost"]),
  parallelism: v.optional(
    v.union(
      [
        v.literal("auto"),
        v.pipe(
          v.number(),
          v.integer("expected parallelism as auto or a whole number >= 1"),
          v.minValue(1, "expected parallelism as auto or a whole number >= 1"),
        ),
      ],
      "expected parallelism as auto or a whole number >= 1",
    ),
    "auto",
  ),
  vars: v.optional(v.record(v.string(), v.unknown(), "expected vars as a mapping"), {}),
  plugins: v.optional(v.record(v.string(), v.string("expected a path to a .ts or .js module"), "expected plugins as a mapping of name: path"), {}),
  resources: v.optional(PlanResourcesSchema, {}),
  tasks: v.pipe(v.array(TaskSchema, "expected tasks as a list"), v.minLength(1, "expected at least one task")),
});

export type PlanInput = v.InferOutput<typeof PlanSchema>;
export type TaskInput = v.InferOutput<typeof TaskSchema>;
