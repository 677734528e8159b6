/**
 * Where a plugin's syntax error is, read from what the runtime threw. Each
 * runtime says it differently:
 * - Bun (from source, and Bun.build in the compiled binary) throws a
 *   BuildMessage, or an AggregateError of them, with `position: { file,
 *   line, column }` (1-based);
 * - Deno throws a SyntaxError "… at file:///x.ts:5:22" (V8), or a TypeError
 *   "SyntaxError: …\n  |\n5 | …\n    at file:///x.ts:5:22" (its TypeScript
 *   parser), with the position only in the text.
 * Anything else is not a syntax error here: undefined.
 */
import { nodeUrl } from "./lazy_builtins.ts";

export interface SyntaxProblem {
  file: string;
  line: number;
  col: number;
  /** The parser's own words, one line. */
  message: string;
  /** Further syntax errors the parser reported. */
  more: number;
}

interface BuildMessageLike {
  name: string;
  message: string;
  position: { file: string; line: number; column: number } | null;
}

export function syntaxProblemOf(error: unknown): SyntaxProblem | undefined {
  try {
    return fromBun(error) ?? fromDeno(error);
  } catch {
    return undefined; // a thrown value whose properties cannot be read is no syntax error we can place
  }
}

function isBuildMessage(value: unknown): value is BuildMessageLike {
  const m = value as BuildMessageLike | null;
  return typeof m === "object" && m !== null && m.name === "BuildMessage" && typeof m.position?.file === "string" &&
    typeof m.position.line === "number" && m.position.line >= 1; // a resolver's error has line 0: not a parse error
}

function fromBun(error: unknown): SyntaxProblem | undefined {
  const messages = error instanceof AggregateError ? error.errors.filter(isBuildMessage) : isBuildMessage(error) ? [error] : [];
  const [first] = messages;
  if (!first?.position) return undefined;
  return { file: first.position.file, line: first.position.line, col: first.position.column, message: first.message, more: messages.length - 1 };
}

// "…message… at file:///path/x.ts:5:22" at the end of the text (or of its first line).
const AT_POSITION = /\s+at (file:\/\/\S+?):(\d+):(\d+)\s*$/;

function fromDeno(error: unknown): SyntaxProblem | undefined {
  if (!(error instanceof Error)) return undefined;
  const text = error.message;
  const isSyntax = error.name === "SyntaxError" || text.startsWith("SyntaxError: ");
  const at = AT_POSITION.exec(text);
  if (!isSyntax || !at) return undefined;
  const firstLine = text.replace(/^SyntaxError: /, "").split("\n")[0]!.replace(AT_POSITION, "");
  return { file: nodeUrl().fileURLToPath(at[1]!), line: Number(at[2]), col: Number(at[3]), message: firstLine.trim(), more: 0 };
}
