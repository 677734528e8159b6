/**
 * Parallelization hints and resource needs: one valibot schema, shared by the
 * plan's `hint:` / `resources:` and by module exports, so both accept exactly
 * the same forms.
 */
import * as v from "./deps_valibot.ts";
import { parseSize } from "./units.ts";

export const HINT_KINDS = ["fully_parallel", "host_exclusive", "rate_limited", "global_exclusive"] as const;
export type HintKind = (typeof HINT_KINDS)[number];

export type Hint =
  | { kind: "fully_parallel" }
  /** At most `limit` at once per rendered `key` (default: the host). */
  | { kind: "host_exclusive"; key?: string; limit: number }
  /** A token bucket per module, or per rendered `key`. */
  | { kind: "rate_limited"; per_second: number; burst: number; key?: string }
  /** One at a time among all instances of the same `group`. */
  | { kind: "global_exclusive"; group: string };

const positiveInt = (what: string) =>
  v.pipe(v.number(`expected ${what} as a whole number >= 1`), v.integer(`expected ${what} as a whole number >= 1`), v.minValue(1, `expected ${what} >= 1`));

const hintObject = v.variant(
  "kind",
  [
    v.strictObject({ kind: v.literal("fully_parallel") }),
    v.strictObject({
      kind: v.literal("host_exclusive"),
      key: v.optional(v.string("expected key as a string template, e.g. \"{{ vars.pool }}\"")),
      limit: v.optional(positiveInt("limit"), 1),
    }),
    v.strictObject({
      kind: v.literal("rate_limited"),
      per_second: v.pipe(v.number("expected per_second as a number > 0"), v.gtValue(0, "expected per_second > 0")),
      burst: v.optional(positiveInt("burst"), 1),
      key: v.optional(v.string("expected key as a string template")),
    }),
    v.strictObject({
      kind: v.literal("global_exclusive"),
      group: v.optional(v.string("expected group as a string"), "default"),
    }),
  ],
  `expected kind to be one of ${HINT_KINDS.map((k) => `"${k}"`).join(", ")}`,
);

const hintString = v.pipe(
  v.picklist(
    ["fully_parallel", "host_exclusive", "global_exclusive"],
    `expected one of "fully_parallel", "host_exclusive", "global_exclusive", or an object like { kind: rate_limited, per_second: 10 }`,
  ),
  v.transform((kind): Hint =>
    kind === "host_exclusive" ? { kind, limit: 1 } : kind === "global_exclusive" ? { kind, group: "default" } : { kind }
  ),
);

export const HintSchema = v.union(
  [hintString, hintObject],
  `expected a hint: "fully_parallel", "host_exclusive", "global_exclusive", or an object with kind (rate_limited needs per_second)`,
);

/** What an instance needs of the shared pools, besides its hint. */
export interface Resources {
  cpu?: number;
  io?: number;
  /** Bytes. */
  mem?: number;
  /** How the module reads: parallel sequential readers thrash spinning disks. */
  io_pattern?: "sequential" | "random";
}

const tokenCount = (what: string) =>
  v.pipe(v.number(`expected ${what} as a number of tokens >= 0`), v.integer(`expected ${what} as a whole number`), v.minValue(0, `expected ${what} >= 0`));

export const ResourcesSchema = v.strictObject({
  cpu: v.optional(tokenCount("cpu")),
  io: v.optional(tokenCount("io")),
  mem: v.optional(
    v.pipe(
      v.union([v.string(), v.number()], "expected mem as a size like 512MiB"),
      v.transform((s) => parseSize(s)),
      v.number("expected mem as a size like 512MiB, 2GB or a byte count"),
    ),
  ),
  io_pattern: v.optional(v.picklist(["sequential", "random"], `expected io_pattern "sequential" or "random"`)),
});
