/**
 * A plan parsed by the YAML package, which remembers where every value came
 * from, so that any check (schema, names, cycles, templates) can point at
 * file:line:col. Imported only when positions are needed or the runtime has
 * no YAML parser of its own (load.ts): the package costs start-up time.
 */
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type YamlNode } from "../deps_yaml.ts";
import { PlanError, PlanErrors, type SourcePosition } from "../errors.ts";
import type { PathKey, YamlSource } from "./source.ts";

export class PositionedSource implements YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; throws PlanErrors for YAML syntax errors. */
  static parse(text: string, file: string): PositionedSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new PlanErrors(doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return new PlanError(`invalid YAML: ${e.message.split("\n")[0]}`, { file, line: pos.line, col: pos.col });
      }));
    }
    return new PositionedSource(file, doc, lines);
  }

  /** The plain JavaScript value of the whole document. */
  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
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
