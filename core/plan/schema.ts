/**
 * The plan file's schema: the single source of truth for what a plan may say.
 * docs/plan.md describes it for people; load.ts maps its issues to line:col.
 */
import * as v from "../deps_valibot.ts";
import { HintSchema, ResourcesSchema } from "../hints.ts";
import { parseCoordinator } from "../coordinator/connection.ts";
import { ConnectionSchema, HostListSchema, SshOptionsSchema, TaskHostsSchema } from "../hosts/schema.ts";
import { parseDuration, parseSize } from "../units.ts";

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;

/** A field's description, for people and for `fanout schema` (editors show it on hover). */
const about = <S extends v.GenericSchema>(text: string, schema: S) => v.pipe(schema, v.description(text));

/** `items: "{{ vars.hosts_to_check }}"`: the items are a list var's (a dotted path in it allowed). */
export const ITEMS_FROM_VAR = /^\s*\{\{\s*vars((?:\.[A-Za-z0-9_-]+)+)\s*\}\}\s*$/;
const ITEMS_EXPECTED = 'expected items as a list, or as "{{ vars.name }}" naming a list in vars';

/** Milliseconds from "500ms", "30s", "2m"; `positive` refuses 0 (a timeout of 0 would fail every attempt at once). */
const duration = (what: string, { positive }: { positive: boolean }) =>
  v.pipe(
    v.string(`expected ${what} as a duration like 500ms, 30s or 2m`),
    v.check((s) => parseDuration(s) !== undefined, `expected ${what} as a duration like 500ms, 30s or 2m`),
    v.check((s) => !positive || parseDuration(s)! > 0, `expected ${what} > 0, like 500ms, 30s or 2m`),
    v.transform((s) => parseDuration(s)!),
  );

/** A YAML mapping (valibot's record alone would take a list as a mapping of indexes). */
const mapping = (message: string) =>
  v.pipe(
    v.unknown(),
    v.check((x) => x !== null && typeof x === "object" && !Array.isArray(x), message),
    v.record(v.string(), v.unknown(), message),
  );

const name = (what: string) =>
  v.pipe(
    v.string(`expected ${what} as a string`),
    v.regex(NAME, `expected ${what} of letters, digits, "_", ".", ":" or "-"`),
  );

const stringList = (what: string) => v.array(v.string(`expected each of ${what} to be a string`), `expected ${what} as a list`);

/** `required: true`: no items is an error, not a warning. */
const required = v.optional(v.boolean("expected required: true or false"), false);

export const ItemsFromSchema = v.union(
  [
    v.strictObject({
      glob: v.pipe(v.string("expected glob as a string pattern like data/*.csv"), v.minLength(1, "expected glob as a pattern like data/*.csv, got an empty string")),
      required,
    }),
    v.strictObject({ file: v.string("expected file as a path to a list, one item per line"), required }),
  ],
  "expected items_from as { glob: \"data/*.csv\" } or { file: list.txt }, each with an optional required: true",
);

const moduleName = v.string("expected module as a built-in name or a name from plugins:");

/** `max_fail_percentage: 20`: a task stops starting instances once more than 20 % of them have failed. */
const percentage = v.pipe(
  v.number("expected max_fail_percentage as a number from 0 to 100"),
  v.minValue(0, "expected max_fail_percentage from 0 to 100"),
  v.maxValue(100, "expected max_fail_percentage from 0 to 100"),
);

/** One alternative of a `race:`: a module call with its own input, hint and resources. */
export const RaceAlternativeSchema = v.strictObject({
  module: about("The module this alternative calls: a built-in or a name from plugins:", moduleName),
  with: about("This alternative's module input", v.optional(mapping("expected with as a mapping of inputs"), {})),
  hint: about("Overrides the module's parallelization hint for this alternative", v.optional(HintSchema)),
  resources: about("Overrides the module's resource needs, key by key", v.optional(ResourcesSchema)),
});

export const TaskSchema = v.strictObject({
  name: about("The task's name: letters, digits, _ . : -; unique among tasks and groups", name("name")),
  // Exactly one of module and race (checked in core/plan/steps.ts).
  module: about("A built-in module (shell, http, sleep, …) or a name from plugins:", v.optional(moduleName)),
  race: about("Instead of module: alternatives started together; the first to succeed wins, the others are cancelled", v.optional(
    v.pipe(
      v.array(RaceAlternativeSchema, "expected race as a list of alternatives, each with a module"),
      v.minLength(2, "expected race as a list of at least 2 alternatives"),
    ),
  )),
  with: about("The module's input; values may use {{ vars.x }}, {{ item }}, {{ host }}", v.optional(mapping("expected with as a mapping of inputs"), {})),
  hosts: about("The hosts this task runs on: host or group names among the plan's and its inventory's (default: all)", v.optional(TaskHostsSchema)),
  // A list, or `"{{ vars.name }}"` naming a list var (resolved at load: core/plan/items.ts).
  items: about("Fan out: one instance per host and item; a list, or \"{{ vars.name }}\" naming a list var", v.optional(
    v.union([v.array(v.unknown()), v.pipe(v.string(), v.regex(ITEMS_FROM_VAR, ITEMS_EXPECTED))], ITEMS_EXPECTED),
  )),
  items_from: about("Items from files matching a glob, or from the lines of a file (instead of items)", v.optional(ItemsFromSchema)),
  needs: about("Tasks or groups this task waits for (default: the previous task on the same host)", v.optional(stringList("needs"))),
  hint: about("Overrides the module's parallelization hint: fully_parallel, host_exclusive, global_exclusive, or { kind: rate_limited, per_second: N }", v.optional(HintSchema)),
  resources: about("Overrides the module's resource needs (cpu, io, mem, io_pattern), key by key", v.optional(ResourcesSchema)),
  timeout: about("Per attempt, a duration > 0 like 500ms, 30s, 2m or 1h", v.optional(duration("timeout", { positive: true }))),
  retries: about("Extra attempts after a failure or timeout (default 0)", v.optional(
    v.pipe(v.number("expected retries as a whole number >= 0"), v.integer("expected retries as a whole number"), v.minValue(0, "expected retries >= 0")),
    0,
  )),
  // 0ms is allowed: retry at once.
  retry_delay: about("First backoff before a retry, doubling each time (default 200ms; 0ms: at once)", v.optional(duration("retry_delay", { positive: false }), "200ms")),
  kill_grace: about("SIGTERM to SIGKILL for a cancelled attempt's process group, a duration > 0 (default: the run's)", v.optional(duration("kill_grace", { positive: true }))),
  max_fail_percentage: about("Stop starting this task's instances once more than this percentage of them failed", v.optional(percentage)),
  jobserver: about("The GNU make jobserver its commands are given in MAKEFLAGS: pipe (default; true), fifo (make >= 4.4, ninja >= 1.13) or false (none)", v.optional(
    v.union([v.boolean(), v.picklist(["pipe", "fifo"])], "expected jobserver: pipe, fifo, true or false"),
  )),
});

/** Where a secret's value comes from: an environment variable, or a file relative to the plan (core/secrets/). */
export const SecretSourceSchema = v.union(
  [
    v.strictObject({ env: v.pipe(v.string("expected env as a variable name"), v.minLength(1, "expected env as a variable name, got an empty string")) }),
    v.strictObject({ file: v.pipe(v.string("expected file as a path"), v.minLength(1, "expected file as a path, got an empty string")) }),
  ],
  "expected a secret as { env: VARIABLE } or { file: path }",
);

const count = (what: string) =>
  v.pipe(v.number(`expected ${what} as a whole number >= 1`), v.integer(`expected ${what} as a whole number`), v.minValue(1, `expected ${what} >= 1`));

/** `parallel: [tasks…]`: one step of the task list whose tasks run side by side, at most `limit` instances at once. */
export const GroupSchema = v.strictObject({
  name: about("The group's name; tasks and groups share one namespace", name("name")),
  parallel: about("Tasks (or groups) that run side by side as one step of the list", v.pipe(v.array(v.unknown(), "expected parallel as a list of tasks"), v.minLength(1, "expected at least one task in parallel"))),
  limit: about("At most this many instances of the group's tasks at once", v.optional(count("limit"))),
  needs: about("Tasks or groups the whole group waits for", v.optional(stringList("needs"))),
});

export const STORAGE_TYPES = ["auto", "nvme", "ssd", "hdd"] as const;

/** Run-wide pool sizes; each may be overridden by a flag of the same name. */
export const PlanResourcesSchema = v.strictObject({
  cpu_tokens: about("CPU token pool size (default: the cores fanout may use); --cpu-tokens overrides", v.optional(count("cpu_tokens"))),
  io_tokens: about("I/O token pool size (default: from the storage device); --io-tokens overrides", v.optional(count("io_tokens"))),
  storage_type: about("Size I/O for this storage: auto, nvme, ssd or hdd", v.optional(v.picklist(STORAGE_TYPES, `expected storage_type one of ${STORAGE_TYPES.join(", ")}`))),
  mem_free: about("Start nothing while less memory than this is available, a size like 1GiB", v.optional(
    v.pipe(
      v.union([v.string(), v.number()], "expected mem_free as a size like 1GiB"),
      v.transform((s) => parseSize(s)),
      v.number("expected mem_free as a size like 1GiB"),
    ),
  )),
  mem_budget: about("The declared mem of running instances must fit in this size, like 8GiB", v.optional(
    v.pipe(
      v.union([v.string(), v.number()], "expected mem_budget as a size like 8GiB"),
      v.transform((s) => parseSize(s)),
      v.number("expected mem_budget as a size like 8GiB"),
    ),
  )),
});

export const PlanSchema = v.strictObject({
  version: about("The plan format's version: 1", v.literal(1, "expected version: 1")),
  name: about("The run's name (default: the file name without extension)", v.optional(name("name"))),
  hosts: about("The hosts tasks run on: names (local labels unless connection: ssh) or { name, address, port, user, connection, vars, ssh_options } (default [localhost])", v.optional(HostListSchema)),
  inventory: about("A file of hosts and groups (hosts:, groups:), relative to the plan", v.optional(v.pipe(v.string("expected inventory as a path to a YAML file"), v.minLength(1, "expected inventory as a path, got an empty string")))),
  connection: about("How hosts are reached unless a host says: local (default; commands run on this machine) or ssh", v.optional(ConnectionSchema)),
  ssh_options: about("ssh options for every ssh host, as [\"Key=Value\"] or { Key: value }", v.optional(SshOptionsSchema)),
  parallelism: about("The fork limit: auto or a whole number >= 1; --parallelism overrides", v.optional(
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
  )),
  vars: about("Values for {{ vars.x }} in templates; --var key=value overrides", v.optional(mapping("expected vars as a mapping"), {})),
  plugins: about("Module name -> path of a local .ts or .js plugin, relative to the plan", v.optional(v.record(v.string(), v.string("expected a path to a .ts or .js module"), "expected plugins as a mapping of name: path"), {})),
  secrets: about("Secret name -> where its value comes from ({ env: VARIABLE } or { file: path }); used as {{ secrets.name }}, masked in all output", v.optional(v.record(v.string(), SecretSourceSchema, "expected secrets as a mapping of name: { env: VARIABLE } or { file: path }"), {})),
  resources: about("Run-wide pool sizes", v.optional(PlanResourcesSchema, {})),
  max_fail_percentage: about("Default max_fail_percentage for every task", v.optional(percentage)),
  coordinator: about("Share host locks, global locks and token buckets with every run using this Redis: redis://[user:pass@]host:port[/db], or rediss:// for TLS; --coordinator overrides", v.optional(
    v.pipe(
      v.string("expected coordinator as a URL like redis://host:6379"),
      v.check((url) => typeof parseCoordinator(url) !== "string", "expected coordinator as a redis:// or rediss:// URL with a host, like redis://host:6379 or redis://host:6379/0"),
    ),
  )),
  tasks: about("The tasks, in order; an entry with parallel: is a group", v.pipe(v.array(TaskSchema, "expected tasks as a list"), v.minLength(1, "expected at least one task"))),
});

/** The plan's top level with its tasks as written: load.ts checks each task on its own. */
export const PlanHeadEntries = {
  ...PlanSchema.entries,
  // Each host is checked on its own (core/hosts/inventory.ts).
  hosts: v.optional(v.pipe(v.array(v.unknown(), "expected hosts as a list"), v.minLength(1, "expected at least one host"))),
  tasks: v.pipe(v.array(v.unknown(), "expected tasks as a list"), v.minLength(1, "expected at least one task")),
};

export type PlanInput = v.InferOutput<typeof PlanSchema>;
export type TaskInput = v.InferOutput<typeof TaskSchema>;
export type RaceAlternativeInput = v.InferOutput<typeof RaceAlternativeSchema>;
export type GroupInput = v.InferOutput<typeof GroupSchema>;
