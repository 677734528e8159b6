/**
 * Third-party imports, in one place so that an upgrade is one line here and
 * nowhere else. The YAML package is in deps_yaml.ts: it is loaded only when needed.
 */
export * as v from "valibot";
export { cac } from "cac";
