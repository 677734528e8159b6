/**
 * Masks secret values in text on its way out of the process. One Redactor
 * holds a plan's secrets; core/secrets/output.ts installs it on stdout and
 * stderr, where everything fanout prints passes (events, human progress,
 * warnings, error messages, dry-run lines), so no producer has to remember.
 *
 * Every value is masked whatever its length (a short one masks ordinary text
 * too: resolve.ts warns about it); each line of a multi-line value (a PEM
 * key) of at least MIN_SECRET_LENGTH characters is masked on its own too,
 * since output is often cut into lines.
 */

export const MASK = "***";

/** Shorter secrets are still masked, with a warning: they mask ordinary text too. */
export const MIN_SECRET_LENGTH = 4;

export class Redactor {
  /** The strings masked, longest first: a secret that contains another is masked whole. */
  private readonly pieces: readonly string[];
  /** The same, as JSON.stringify writes them inside a string literal. */
  private readonly escaped: readonly string[];

  constructor(values: Iterable<string>) {
    const pieces = new Set<string>();
    for (const value of values) {
      if (value === "") continue;
      pieces.add(value);
      if (/[\r\n]/.test(value)) {
        for (const line of value.split(/\r?\n|\r/)) if (line.length >= MIN_SECRET_LENGTH) pieces.add(line);
      }
    }
    this.pieces = [...pieces].sort((a, b) => b.length - a.length);
    this.escaped = this.pieces.map((p) => JSON.stringify(p).slice(1, -1));
  }

  /** Masks nothing: for a plan with no secrets. */
  static readonly none = new Redactor([]);

  /** True when there is something to mask. */
  get active(): boolean {
    return this.pieces.length > 0;
  }

  /** `text` with every occurrence of every secret replaced by ***. */
  text(text: string): string {
    for (const piece of this.pieces) if (text.includes(piece)) text = text.replaceAll(piece, MASK);
    return text;
  }

  /**
   * JSON text (one or more documents, as NDJSON): every secret inside a
   * string literal (a value or a key) is masked, matched as JSON.stringify
   * escapes it and only on whole escape sequences, so the text stays valid
   * JSON. Numbers, `true`, `false` and `null` are left as they are.
   */
  json(text: string): string {
    if (!this.escaped.some((e) => text.includes(e))) return text;
    let out = "";
    let i = 0;
    while (i < text.length) {
      const open = text.indexOf('"', i);
      if (open < 0) break;
      let close = open + 1;
      while (close < text.length && text[close] !== '"') close += text[close] === "\\" ? 2 : 1;
      out += text.slice(i, open + 1) + this.literal(text.slice(open + 1, Math.min(close, text.length)));
      if (close < text.length) out += '"';
      i = close + 1;
    }
    return i < text.length ? out + text.slice(i) : out;
  }

  /**
   * Text that may mix JSON lines with plain ones (stdout under --json, where
   * a plugin may print on its own): lines that start with `{` or `[` are
   * masked as JSON, the others as text.
   */
  jsonLines(text: string): string {
    if (!this.pieces.some((p) => text.includes(p)) && !this.escaped.some((e) => text.includes(e))) return text;
    return text.split("\n").map((line) => (line.startsWith("{") || line.startsWith("[") ? this.json(line) : this.text(line))).join("\n");
  }

  /**
   * A copy of `value` (strings, lists, mappings, their keys) with every
   * secret masked in its strings; the same object when nothing changed.
   * For stores that keep values rather than text (the journal).
   */
  value<T>(value: T): T {
    if (!this.active) return value;
    return this.deep(value) as T;
  }

  private deep(value: unknown): unknown {
    if (typeof value === "string") return this.text(value);
    if (Array.isArray(value)) {
      const out = value.map((v) => this.deep(v));
      return out.some((v, i) => v !== value[i]) ? out : value;
    }
    if (value !== null && typeof value === "object") {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const key = this.text(k);
        const masked = this.deep(v);
        if (key !== k || masked !== v) changed = true;
        out[key] = masked;
      }
      return changed ? out : value;
    }
    return value;
  }

  /** The body of one string literal, each secret masked where it starts and ends on whole characters. */
  private literal(body: string): string {
    for (const e of this.escaped) {
      let at = body.indexOf(e);
      let unit = 0; // where the character (or escape sequence) being read starts
      while (at >= 0) {
        while (unit < at) unit += unitLength(body, unit);
        if (unit === at) {
          body = body.slice(0, at) + MASK + body.slice(at + e.length);
          unit = at + MASK.length;
        }
        at = body.indexOf(e, unit);
      }
    }
    return body;
  }
}

/** Length of the JSON string character at `i`: an escape sequence (`\n`, `\u00e9`) or one code unit. */
function unitLength(body: string, i: number): number {
  if (body[i] !== "\\") return 1;
  return body[i + 1] === "u" ? 6 : 2;
}
