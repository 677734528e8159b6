/**
 * Seeded mutations of plan files, for the fuzz test: the same seed and index
 * always give the same bytes, so a failure seen once can be seen again. The
 * mutations are what damaged or hostile plans look like: lines dropped,
 * doubled, swapped or re-indented, a file cut short, random and invalid
 * UTF-8 bytes, YAML's special characters, values of the wrong type, very
 * long lines, deep nesting and alias bombs.
 */

/** A deterministic generator of numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
type Mutator = (bytes: Uint8Array, random: Random) => Uint8Array;

const encoder = new TextEncoder();
const int = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, list: readonly T[]): T => list[int(random, list.length)]!;

/** Characters and snippets YAML gives meaning to, plus control bytes. */
const SPECIALS = [
  "{", "}", "[", "]", "*", "&", "!", "%", "|", ">", "\t", "\0", "?", ":", "- ", "#", "@", "`", "'", '"', ",",
  "---\n", "...\n", "<<: *x\n", "&x ", "*x", "!!binary ", "!!js/function ", "!foo ", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n",
  "{{", "}}", "{{ item }}", "{{ vars.", "{{ vars.__proto__ }}", "{{ host.constructor }}", "\r", "\r\n", "\u2028", "\uFEFF", "\\",
  "__proto__: 1\n", "constructor: x\n", "? [a, b]\n: c\n",
];

/** Odd bytes: invalid UTF-8 (a lone continuation, a truncated sequence, an encoded surrogate, an overlong form). */
const BAD_BYTES = [[0xff], [0xfe], [0x80], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0x00], [0x1b, 0x5b, 0x32, 0x4a]];

/** Values of every YAML type, and numbers and strings at the edges. */
const VALUES = [
  "~", "null", "true", "no", "0", "-1", "1e999", "-0", ".inf", ".nan", "0x7fffffff", "9007199254740993", "1.5", "0.000001",
  '""', "''", "[]", "{}", "[[]]", "{a: {b: {c: 1}}}", "2026-11-30", "1ms", "0ms", "-5s", "99999999h", "auto",
  "host_exclusive", "global_exclusive", "fully_parallel", "{ kind: rate_limited, per_second: 0 }", "{ kind: keyed, key: '{{ item }}' }",
  // Paths stay inside the folder the fuzz test copies the plans into: it runs them from two levels down.
  "{ glob: '**/*' }", "{ glob: '../**/*.yml' }", "{ glob: '[' }", "{ file: ../examples/data/part-1.csv }", "{ file: . }",
  "./plugins/nothere.ts", "./plugins/", "../examples/plugins/greet.ts", "'./plugins/lock_probe.ts\\0x'", "data:text/javascript,1", "https://example.com/x.ts", "'{{ item }}'", "'{{'", "'}}{{'", "'{{ vars }}'",
  "*x", "&x 1", "!!str 1", "!!int x", "!!map [1]", "[a, a, a]",
];

function lines(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      out.push(bytes.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function insertAt(bytes: Uint8Array, at: number, insert: Uint8Array, removing = 0): Uint8Array {
  return concat([bytes.subarray(0, at), insert, bytes.subarray(Math.min(bytes.length, at + removing))]);
}

/** An offset just after one of `bytes`' `:` or `- ` (where a value starts), or anywhere if there is none. */
function valueOffset(bytes: Uint8Array, random: Random): { at: number; end: number } {
  const starts: number[] = [];
  for (let i = 0; i < bytes.length - 1; i++) {
    if ((bytes[i] === 0x3a || bytes[i] === 0x2d) && bytes[i + 1] === 0x20) starts.push(i + 2);
  }
  if (starts.length === 0) return { at: int(random, bytes.length + 1), end: 0 };
  const at = pick(random, starts);
  let end = at;
  while (end < bytes.length && ![0x0a, 0x2c, 0x7d, 0x5d].includes(bytes[end]!)) end++;
  return { at, end };
}

/** `depth` nested flow sequences (or mappings) around a value. */
function nested(depth: number, mapping: boolean): string {
  return mapping ? "{a: ".repeat(depth) + "1" + "}".repeat(depth) : "[".repeat(depth) + "1" + "]".repeat(depth);
}

/** "Billion laughs": each level names the one before `width` times. */
function aliasBomb(levels: number, width: number): string {
  let text = `  l0: &l0 [lol]\n`;
  for (let i = 1; i <= levels; i++) text += `  l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(", ")}]\n`;
  return text;
}

export const MUTATORS: Record<string, Mutator> = {
  dropLine(bytes, random) {
    const ls = lines(bytes);
    ls.splice(int(random, ls.length), 1);
    return concat(ls);
  },
  duplicateLine(bytes, random) {
    const ls = lines(bytes);
    const i = int(random, ls.length);
    if (ls[i]) ls.splice(i + int(random, 2), 0, ls[i]!);
    return concat(ls);
  },
  swapLines(bytes, random) {
    const ls = lines(bytes);
    if (ls.length === 0) return bytes; // an earlier mutation left nothing
    const i = int(random, ls.length);
    const j = int(random, ls.length);
    [ls[i], ls[j]] = [ls[j]!, ls[i]!];
    return concat(ls);
  },
  reindent(bytes, random) {
    const ls = lines(bytes);
    const i = int(random, ls.length);
    const line = ls[i];
    if (!line) return bytes;
    const text = new TextDecoder().decode(line);
    const body = text.replace(/^[ \t]*/, "");
    const indent = pick(random, ["", " ", "   ", "\t", "  \t", " ".repeat(int(random, 12))]);
    ls[i] = encoder.encode(indent + body);
    return concat(ls);
  },
  truncate(bytes, random) {
    return bytes.subarray(0, int(random, bytes.length + 1));
  },
  randomBytes(bytes, random) {
    const insert = Uint8Array.from({ length: 1 + int(random, 8) }, () => int(random, 256));
    const at = int(random, bytes.length + 1);
    return insertAt(bytes, at, insert, random() < 0.5 ? insert.length : 0);
  },
  flipByte(bytes, random) {
    if (bytes.length === 0) return bytes;
    const out = bytes.slice();
    out[int(random, out.length)]! ^= 1 << int(random, 8);
    return out;
  },
  special(bytes, random) {
    return insertAt(bytes, int(random, bytes.length + 1), encoder.encode(pick(random, SPECIALS)), int(random, 2));
  },
  badUtf8(bytes, random) {
    return insertAt(bytes, int(random, bytes.length + 1), Uint8Array.from(pick(random, BAD_BYTES)));
  },
  replaceValue(bytes, random) {
    const { at, end } = valueOffset(bytes, random);
    return insertAt(bytes, at, encoder.encode(pick(random, VALUES)), Math.max(0, end - at));
  },
  longLine(bytes, random) {
    const { at, end } = valueOffset(bytes, random);
    // Up to ~100 kB: beyond that, a line of YAML syntax errors costs the yaml parser seconds per megabyte.
    const long = pick(random, ["x", "{{ item }}", "ab ", "é"]).repeat(1_000 + int(random, 10_000));
    return insertAt(bytes, at, encoder.encode(random() < 0.5 ? long : JSON.stringify(long)), Math.max(0, end - at));
  },
  deepNesting(bytes, random) {
    const { at, end } = valueOffset(bytes, random);
    const depth = pick(random, [100, 1000, 5000, 20_000]);
    return insertAt(bytes, at, encoder.encode(nested(depth, random() < 0.5)), Math.max(0, end - at));
  },
  deepIndent(bytes, random) {
    const depth = pick(random, [200, 2000]);
    let text = "vars:\n";
    for (let i = 0; i < depth; i++) text += `${" ".repeat(i + 1)}k${i}:\n`;
    text += `${" ".repeat(depth + 1)}end\n`;
    return concat([bytes, encoder.encode(text)]);
  },
  aliasBomb(bytes, random) {
    const bomb = aliasBomb(pick(random, [3, 6, 9, 12]), pick(random, [2, 9, 10]));
    const where = pick(random, ["vars:\n", "x:\n"]);
    const text = new TextDecoder().decode(bytes);
    // Into the plan's own vars when it has them (the value that is frozen and templated), else beside them.
    const at = text.indexOf("\nvars:");
    const insert = encoder.encode(`${where}${bomb}  use: *l${random() < 0.5 ? 0 : 3}\n`);
    return at >= 0 && random() < 0.5 ? insertAt(bytes, at + 1, insert) : concat([bytes, encoder.encode("\n"), insert]);
  },
};

const KINDS = Object.keys(MUTATORS);

export interface Mutant {
  /** The mutations applied, in order, e.g. ["dropLine", "special"]. */
  kinds: string[];
  bytes: Uint8Array;
}

/**
 * The `index`th mutant of `seedPlan` under `seed`: one to three mutations,
 * chosen and placed by a generator seeded from both, so any one mutant can be
 * made again without making the ones before it.
 */
export function mutant(seedPlan: Uint8Array, seed: number, index: number): Mutant {
  const random = seededRandom(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
  const count = 1 + int(random, 3);
  const kinds: string[] = [];
  let bytes = seedPlan;
  for (let i = 0; i < count; i++) {
    const kind = pick(random, KINDS);
    kinds.push(kind);
    bytes = MUTATORS[kind]!(bytes, random);
  }
  return { kinds, bytes };
}
