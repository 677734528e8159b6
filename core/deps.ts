/**
 * Third-party imports, in one place so that an upgrade is one line here and
 * nowhere else.
 */
export * as v from "valibot";
export { isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
export type { Document, Node as YamlNode } from "yaml";
export { cac } from "cac";
