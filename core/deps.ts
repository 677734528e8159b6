/**
 * Third-party imports, in one place so that an upgrade is one line here and
 * nowhere else. The YAML package is in deps_yaml.ts: it is loaded only when
 * needed. valibot as the namespace `v` is the SDK's (core/mod.ts, which the
 * compiled program never loads); fanout's own schemas import it from
 * deps_valibot.ts.
 */
export * as v from "valibot";
export { cac } from "cac";
