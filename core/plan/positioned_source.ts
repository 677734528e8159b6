/**
 * A plan parsed by the YAML package, which remembers where every value came
 * from, so that any check (schema, names, cycles, templates) can point at
 * file:line:col. Imported only when positions are needed or the runtime has
 * no YAML parser of its own (load.ts): the package costs start-up time.
 */
import { type Document, isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type YamlNode } from "../deps_yaml.ts";
import { PlanError, PlanErrors, type SourcePosition } from "../errors.ts";
import { capped, MAX_DEPTH, type PathKey, type YamlSource } from "./source.ts";

/** Aliases may stand for at most this many copies of their anchors in one plan. */
export const MAX_ALIAS_COUNT = 100;


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

export class PositionedSource implements YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; throws PlanErrors for YAML syntax errors (the first MAX_ERRORS of them). */
  static parse(text: string, file: string): PositionedSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new PlanErrors(capped(doc.errors, (e) => {
        const pos = lines.linePos(e.pos[0]);
        return new PlanError(`invalid YAML: ${e.message.split("\n")[0]}`, { file, line: pos.line, col: pos.col });
      }));
    }
    return new PositionedSource(file, doc, lines);
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
