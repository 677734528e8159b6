/**
 * Template values in shell code: quoted so that /bin/sh hands the command
 * each value as one word, byte for byte, and runs nothing a value holds.
 * Checked with real shells and real runs, from what the commands printed and
 * from the files an injected command would have created.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runPlanText, tempDir } from "../test_helpers.ts";
import { shellPlaces, shellQuote } from "./shell_quote.ts";

/** Each would run `touch PWNED` (or split, or expand) if pasted raw into sh. */
const NASTY = [
  "a b",
  "a;touch PWNED;",
  "$(touch PWNED)",
  "`touch PWNED`",
  `it's "quoted"`,
  "new\nline",
  "-n",
  "--help",
  "*",
  "~root",
  "#not a comment",
  "a\\b\\\\c",
  "'",
  "\t tab | touch PWNED & ",
  "",
];

/** What `printf '[%s]' <words>` prints: one bracket pair per word the command received. */
const bracketed = (value: string) => `[${value}]`;

describe("shellQuote", () => {
  test("/bin/sh reads every quoted value back as one word, byte for byte", () => {
    const dir = tempDir();
    const script = NASTY.map((v) => `printf '[%s]' ${shellQuote(v)}; printf '\\n---\\n'`).join("\n");
    const r = spawnSync("/bin/sh", ["-c", script], { cwd: dir, encoding: "utf8" });
    expect(r.stdout).toBe(NASTY.map((v) => `${bracketed(v)}\n---\n`).join(""));
    expect(existsSync(join(dir, "PWNED"))).toBe(false);
  });

  test("words of safe characters stay as they are; anything else is single-quoted", () => {
    expect(["web1", "data/a.csv", "-n", "a=b", "", "it's"].map(shellQuote)).toEqual(["web1", "data/a.csv", "-n", "'a=b'", "''", `'it'\\''s'`]);
  });
});

describe("shellPlaces", () => {
  const placesOf = (text: string) => {
    const spans = [...text.matchAll(/\{\{ x \}\}/g)].map((m) => ({ start: m.index, length: m[0].length }));
    return shellPlaces(text, spans);
  };

  test("bare words, and inside $( ) even within double quotes, are word places", () => {
    expect(placesOf(`echo {{ x }} a{{ x }}b "$(cat {{ x }})" $( ( echo {{ x }} ) ) && f() { g {{ x }}; }`)).toEqual(["word", "word", "word", "word", "word"]);
  });

  test("quotes, backticks, comments, here-documents and a glued \\ or $ are not", () => {
    expect(placesOf(`echo '{{ x }}' "a {{ x }}" \`{{ x }}\` \\{{ x }} \${{ x }} # {{ x }}\necho {{ x }} <<E\n{{ x }}\nE`))
      .toEqual(["single", "double", "backtick", "glued", "glued", "comment", "word", "heredoc"]);
  });

  test("escaped quotes and a # inside a word open nothing", () => {
    expect(placesOf(`echo \\' {{ x }} \\" {{ x }} a#b {{ x }}`)).toEqual(["word", "word", "word"]);
  });
});

describe("shell module › template values are quoted in cmd, never run", () => {
  const yamlList = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
  const printed = (log: Awaited<ReturnType<typeof runPlanText>>) => log.ends.map((e) => String(e.data.stdout)).sort();

  test("items", async () => {
    const log = await runPlanText(`version: 1
tasks:
  - { name: t, module: shell, items: ${yamlList(NASTY)}, with: { shell: true, cmd: "printf '[%s]' {{ item }}" } }
`);
    expect(log.ends.map((e) => e.status)).toEqual(NASTY.map(() => "ok"));
    expect(printed(log)).toEqual(NASTY.map(bracketed).sort());
    expect(existsSync(join(log.dir, "PWNED"))).toBe(false);
  });

  test("items_from a glob over files with such names", async () => {
    const names = NASTY.filter((v) => v !== "" && !v.includes("/")).map((v) => `${v}.csv`);
    const dir = tempDir();
    mkdirSync(join(dir, "data"));
    for (const name of names) writeFileSync(join(dir, "data", name), "");
    const log = await runPlanText(`version: 1
tasks:
  - { name: t, module: shell, items_from: { glob: "${dir}/data/*" }, with: { shell: true, cmd: "printf '[%s]' {{ item }}" } }
`);
    expect(log.ends).toHaveLength(names.length);
    expect(printed(log)).toEqual(names.map((n) => bracketed(join(dir, "data", n))).sort());
    expect(existsSync(join(log.dir, "PWNED"))).toBe(false);
  });

  test("vars, inside text and $( ), and host names", async () => {
    const hosts = NASTY.filter((v) => v !== "");
    const log = await runPlanText(`version: 1
hosts: ${yamlList(hosts)}
vars: { v: ${JSON.stringify(NASTY[1] + NASTY[4] + NASTY[5])} }
tasks:
  - { name: t, module: shell, with: { shell: true, cmd: "printf '[%s]' {{ host }} x{{ vars.v }}y \\"$(printf %s {{ vars.v }})\\"" } }
`);
    const v = NASTY[1]! + NASTY[4] + NASTY[5];
    expect(printed(log)).toEqual(hosts.map((h) => `${bracketed(h)}${bracketed(`x${v}y`)}${bracketed(v)}`).sort());
    expect(existsSync(join(log.dir, "PWNED"))).toBe(false);
  });

  test("| raw substitutes shell code as it is", async () => {
    const log = await runPlanText(`version: 1
vars: { snippet: "echo one; echo two" }
tasks:
  - { name: t, module: shell, with: { shell: true, cmd: "{{ vars.snippet | raw }}; {{ vars.snippet }}" } }
`);
    expect(log.ends[0]).toMatchObject({ status: "failed", data: { stdout: "one\ntwo\n" } });
    expect(String(log.ends[0]!.data.stderr)).toContain("echo one; echo two");
  });

  test("argv needs no quoting: each value is one argument as it is", async () => {
    const log = await runPlanText(`version: 1
tasks:
  - { name: t, module: shell, items: ${yamlList(NASTY)}, with: { argv: [printf, "[%s]", "{{ item }}", "-{{ item }}-"] } }
`);
    expect(printed(log)).toEqual(NASTY.map((v) => bracketed(v) + bracketed(`-${v}-`)).sort());
  });
});
