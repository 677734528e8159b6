/**
 * A parsed YAML file that remembers where every value came from, so that any
 * later check (schema, names, cycles, templates) can point at file:line:col.
 */
import { type Document, isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type YamlNode } from "../deps.ts";
import { PlanError, PlanErrors, type SourcePosition } from "../errors.ts";

export type PathKey = string | number;

/** Aliases may stand for at most this many copies of their anchors in one plan. */
export const MAX_ALIAS_COUNT = 100;

/** More than this many problems are summed up as "… and N more". */
export const MAX_ERRORS = 20;

/**
 * The first MAX_ERRORS of `problems` as errors, then a line saying how many
 * more there were: only the ones shown are turned into errors (a damaged
 * file can have a problem every few bytes).
 */
export function capped<T>(problems: readonly T[], toError: (problem: T) => PlanError): PlanError[] {
  const shown = problems.slice(0, MAX_ERRORS).map(toError);
  if (problems.length > MAX_ERRORS) shown.push(new PlanError(`… and ${problems.length - MAX_ERRORS} more problems`, undefined));
  return shown;
}

/** Lists and mappings may nest this deep: past it, the yaml library's alias resolution takes minutes. */
export const MAX_DEPTH = 100;

/**
 * Every node under `root` in document order (a pair's key before its value),
 * with how many lists and mappings enclose it. Not yaml's visit(), which
 * copies the path at every level: slow on a plan nested thousands deep.
 */
function* nodesInOrder(root: unknown): Generator<{ node: YamlNode; depth: number }> {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (isPair(node)) {
      stack.push({ node: node.value, depth }, { node: node.key, depth });
    } else if (isNode(node)) {
      yield { node, depth };
      if (isCollection(node)) for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i], depth: depth + 1 });
    }
  }
}

export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; throws PlanErrors for YAML syntax errors (the first MAX_ERRORS of them). */
  static parse(text: string, file: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new PlanErrors(capped(doc.errors, (e) => {
        const pos = lines.linePos(e.pos[0]);
        return new PlanError(`invalid YAML: ${e.message.split("\n")[0]}`, { file, line: pos.line, col: pos.col });
      }));
    }
    return new YamlSource(file, doc, lines);
  }

  /**
   * The plain JavaScript value of the whole document. Throws PlanErrors for
   * an alias with no anchor before it, nesting deeper than MAX_DEPTH, and
   * aliases that would expand the document past MAX_ALIAS_COUNT copies (a
   * "billion laughs" plan).
   */
  toJS(): unknown {
    this.checkShape();
    try {
      return this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      if (error instanceof ReferenceError && /alias count/i.test(error.message)) {
        throw this.error(`invalid YAML: its aliases expand to more than ${MAX_ALIAS_COUNT} copies of their anchors; write the values out instead`, this.firstAlias());
      }
      throw error;
    }
  }

  /** Refuses what toJS() cannot do safely: an alias with no anchor before it, nesting past MAX_DEPTH. */
  private checkShape(): void {
    const anchors = new Set<string>();
    for (const { node, depth } of nodesInOrder(this.doc.contents)) {
      if (depth > MAX_DEPTH) throw this.error(`invalid YAML: lists and mappings nested more than ${MAX_DEPTH} deep`, node);
      if (isAlias(node)) {
        // The yaml library resolves an alias to the last anchor of its name before it, in this order.
        if (!anchors.has(node.source)) throw this.error(`invalid YAML: alias *${node.source} names no anchor (&${node.source}) set before it`, node);
      } else if (node.anchor) anchors.add(node.anchor);
    }
  }

  private firstAlias(): YamlNode | undefined {
    for (const { node } of nodesInOrder(this.doc.contents)) if (isAlias(node)) return node;
    return undefined;
  }

  private error(message: string, node: unknown): PlanErrors {
    return new PlanErrors([new PlanError(message, this.positionOfNode(node))]);
  }

  /**
   * Where the value at `path` is written; with `key: true`, where its key is.
   * Falls back to the nearest ancestor that exists (a missing key is reported
   * at the mapping that lacks it).
   */
  positionOf(path: readonly PathKey[], options: { key?: boolean } = {}): SourcePosition {
    let node: unknown = this.doc.contents;
    let keyNode: unknown;
    let best: unknown = node;
    for (const step of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof step === "number") {
        node = node.items[step];
      } else {
        break;
      }
      if (node == null) {
        best = keyNode ?? best;
        break;
      }
      best = options.key && keyNode && step === path[path.length - 1] ? keyNode : node;
    }
    return this.positionOfNode(best);
  }

  private positionOfNode(node: unknown): SourcePosition {
    const range = (node as YamlNode | undefined)?.range;
    const offset = range ? range[0] : 0;
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }
}

/** "tasks[1].module" for ["tasks", 1, "module"]. */
export function formatPath(path: readonly PathKey[]): string {
  let out = "";
  for (const step of path) {
    out += typeof step === "number" ? `[${step}]` : out === "" ? step : `.${step}`;
  }
  return out;
}
