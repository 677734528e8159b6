/**
 * The runtime's own YAML parser: Bun has one, native and without start-up
 * cost; Deno does not. Loading the YAML package and parsing a first plan
 * with it is a large share of a short run's start-up, so the plan loader
 * uses this one where it can (core/plan/native_parse.ts says when).
 */
import { isBun } from "./runtime.ts";

/** Parses one YAML document; undefined where the runtime has no parser of its own. */
export const nativeYamlParse: ((text: string) => unknown) | undefined = isBun && typeof Bun.YAML?.parse === "function"
  ? (text) => Bun.YAML.parse(text)
  : undefined;
