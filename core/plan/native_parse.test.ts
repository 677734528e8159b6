/**
 * The runtime's YAML parser may stand in for the YAML package only where
 * both give the same value: for every text, parseWithoutPositions gives
 * either nothing (the package parses) or exactly what the package gives,
 * and never a value for a text the package refuses.
 */
import { describe, expect, spyOn, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom as random } from "./fuzz/mutate.ts";
import { loadPlan } from "./load.ts";
import { parseWithoutPositions, writtenKeys } from "./native_parse.ts";
import { PositionedSource } from "./positioned_source.ts";

const ROOT = join(import.meta.dirname, "..", "..");

function packageParse(text: string): { value: unknown } | { error: string } {
  try {
    return { value: PositionedSource.parse(text, "plan.yml").toJS() };
  } catch (error) {
    return { error: String(error) };
  }
}

/** Every .yml under `dir` (links not followed: fixtures link to node_modules). */
function plans(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return plans(path);
    return e.isFile() && e.name.endsWith(".yml") ? [readFileSync(path, "utf8")] : [];
  });
}

/** Plans written the ways people write them: flow and block, quoted keys, block scalars, comments. */
const WRITTEN = [
  ...plans(join(ROOT, "examples")),
  ...plans(join(ROOT, "fixtures")),
  `---
# a leading marker and comments
version: 1
"name": quoted-key
hosts:
  - web1
  - 'web2'
vars:
  url: http://example.com:8080/x
  list: [a, "b, c", {k: v, 'q': "x: y"}]
tasks:
  - name: script
    module: shell
    with:
      cmd: |
        echo "{{ item }}"
        key: not a key
      shell: true
    items:
      - { id: 1, path: "/a b" }
      - id: 2
        path: >-
          folded
          text
  - name: flow
    module: debug
    with: { message: "a, b: {c}", level: info }
`,
];

const PIECES = ["{", "}", "[", "]", ",", ":", ": ", "- ", "#", " #", "'", "\"", "|", ">", "&a ", "*a", "!", "?", "~", "null", "<<", "---", "\\", "  ", "\n", "\n  ", "x: 1", "name: dup"];

function mutate(text: string, next: () => number): string {
  const lines = text.split("\n");
  const pick = () => Math.floor(next() * lines.length);
  const kind = Math.floor(next() * 5);
  if (kind === 0) lines.splice(pick(), 1);
  else if (kind === 1) {
    const i = pick();
    lines.splice(i, 0, lines[i]!);
  } else if (kind === 2) {
    const i = pick();
    const j = pick();
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  } else {
    const i = pick();
    const line = lines[i]!;
    const at = Math.floor(next() * (line.length + 1));
    lines[i] = line.slice(0, at) + PIECES[Math.floor(next() * PIECES.length)] + line.slice(kind === 3 ? at : at + 1);
  }
  return lines.join("\n");
}

describe("parseWithoutPositions", () => {
  test("plans as people write them take the native parser, and it gives the package's value", () => {
    for (const text of WRITTEN) {
      const fast = parseWithoutPositions(text);
      expect(fast).toBeDefined();
      expect(fast!.value).toEqual((packageParse(text) as { value: unknown }).value);
    }
  });

  test("mutated plans: the package's value or nothing, never a value for a text the package refuses", () => {
    const seed = Number(process.env.FANOUT_FUZZ_SEED ?? 20261130);
    const next = random(seed);
    let taken = 0;
    for (let n = 0; n < 4000; n++) {
      let text = WRITTEN[n % WRITTEN.length]!;
      const rounds = 1 + Math.floor(next() * 3);
      for (let r = 0; r < rounds; r++) text = mutate(text, next);
      const fast = parseWithoutPositions(text);
      if (fast === undefined) continue;
      taken++;
      const reference = packageParse(text);
      if (!("value" in reference) || !Bun.deepEquals(fast.value, reference.value, true)) {
        throw new Error(`seed ${seed}, case ${n}: the parsers disagree on\n${text}\n--- package: ${JSON.stringify(reference)}\n--- native: ${JSON.stringify(fast.value)}`);
      }
    }
    // The fast path must stay the common one for texts that are still plans.
    expect(taken).toBeGreaterThan(500);
  });

  const refused: [string, string][] = [
    ["a duplicate block key", "a: 1\nb: 2\na: 3\n"],
    ["a duplicate key, quoted once", "a: 1\n'a': 2\n"],
    ["a duplicate flow key", "a: {x: 1, x: 2}\n"],
    ["a duplicate key in a list's mapping", "- a: 1\n  a: 2\n"],
    ["a merge key", "b: &x {c: 1}\na: {<<: *x}\n"],
    ["an alias", "a: &x 1\nb: *x\n"],
    ["a tag", "a: !!binary aGk=\n"],
    ["a directive", "%YAML 1.1\n---\na: yes\n"],
    ["two documents", "a: 1\n---\nb: 2\n"],
    ["a null key", "~: 1\n"],
    ["a complex key", "? [a]\n: 1\n"],
    ["a tab", "a:\n\t- 1\n"],
    ["lists nested past the depth limit", `a: ${"[".repeat(150)}${"]".repeat(150)}\n`],
  ];
  for (const [what, text] of refused) {
    test(`leaves ${what} to the package`, () => {
      expect(parseWithoutPositions(text)).toBeUndefined();
    });
  }

  test("leaves scalars and flow collections over several lines to the package", () => {
    expect(parseWithoutPositions("a: {b: 1,\n  c: 2}\n")).toBeUndefined();
    expect(parseWithoutPositions("a: 'b\n  c'\n")).toBeUndefined();
    expect(parseWithoutPositions("a: b\n  c\n")).toBeUndefined();
  });

  test("keys inside block scalars and quoted values are not keys", () => {
    expect(writtenKeys("a: |\n  b: 1\nc: 'd: 2'\ne: [f, {g: h}]\n")).toEqual(["a", "c", "e", "g"]);
  });
});

describe("loadPlan", () => {
  test("a valid plan is loaded without the positioned parse; a problem is reported through it, at its line", async () => {
    const parse = spyOn(PositionedSource, "parse");
    try {
      const plan = await loadPlan(join(ROOT, "examples", "hello.yml"));
      expect(plan.tasks.map((t) => t.name)).toEqual(["greet", "package-lock", "api-call", "cluster-change"]);
      expect(parse).not.toHaveBeenCalled();
      const dir = mkdtempSync(join(tmpdir(), "fanout-native-"));
      const file = join(dir, "plan.yml");
      writeFileSync(file, "version: 1\nhosts: [a]\ntasks:\n  - name: t\n    module: debug\n    with: { mesage: hi }\n");
      const error = await loadPlan(file).catch((e: unknown) => e);
      expect(String(error)).toContain(`${file}:6:`);
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
  });
});
