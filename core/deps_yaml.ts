/**
 * The YAML package, apart from core/deps.ts: what imports it pays for its
 * start-up, so only the positioned plan source does (core/plan/positioned_source.ts).
 */
export { isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
export type { Document, Node as YamlNode } from "yaml";
