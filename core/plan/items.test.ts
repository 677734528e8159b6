/** items_from at load: globs and list files, the empty-match policy (warning, required, --strict). */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { planErrors as errorsOf, writeFiles } from "../test_helpers.ts";
import { loadPlan } from "./load.ts";

const sums = (from: string) => `version: 1
tasks:
  - name: sums
    module: checksum
    items_from: ${from}
    with: { path: "{{ item }}" }
`;

describe("items_from › globs", () => {
  test("a malformed pattern is an error at the glob, with what is wrong", async () => {
    expect(await errorsOf(sums(`{ glob: "data/[z-a].csv" }`))).toEqual([
      `plan.yml:5:25: tasks[0].items_from.glob: glob "data/[z-a].csv": empty range "z-a" in "data/[z-a].csv": the first character must not come after the second`,
    ]);
    expect(await errorsOf(sums(`{ glob: "data/[ab.csv" }`))).toEqual([
      `plan.yml:5:25: tasks[0].items_from.glob: glob "data/[ab.csv": unclosed "[" in "data/[ab.csv"; expected [abc], [a-z] or [!a-z] (write \\[ for a literal bracket)`,
    ]);
  });

  test("a path component that is a file is an error, not an empty match", async () => {
    expect(await errorsOf(sums(`{ glob: "notes.txt/*.csv" }`), { "notes.txt": "x" })).toEqual([
      `plan.yml:5:25: tasks[0].items_from.glob: glob "notes.txt/*.csv": DIR/notes.txt is not a directory`,
    ]);
  });

  test("alternatives with wildcards inside them give the files of each", async () => {
    const dir = writeFiles({ "plan.yml": sums(`{ glob: "{*.csv,*.tsv}" }`), "a.csv": "", "b.tsv": "", "c.txt": "" });
    const plan = await loadPlan(join(dir, "plan.yml"));
    expect(plan.tasks[0]!.items).toEqual([join(dir, "a.csv"), join(dir, "b.tsv")]);
  });
});

describe("items_from › nothing to run", () => {
  test("a glob that matches nothing is a warning with its position", async () => {
    const dir = writeFiles({ "plan.yml": sums(`{ glob: "data/*.csv" }`) });
    const plan = await loadPlan(join(dir, "plan.yml"));
    expect(plan.tasks[0]!.items).toEqual([]);
    expect(plan.warnings).toEqual([`${join(dir, "plan.yml")}:5:17: tasks[0].items_from: glob "data/*.csv" matched no files: task "sums" has no instances`]);
  });

  test("required: true makes it an error, for a glob and for a list file", async () => {
    expect(await errorsOf(sums(`{ glob: "data/*.csv", required: true }`))).toEqual([
      `plan.yml:5:17: tasks[0].items_from: glob "data/*.csv" matched no files, and required: true asks for at least one`,
    ]);
    expect(await errorsOf(sums(`{ file: list.txt, required: true }`), { "list.txt": "# only a comment\n\n" })).toEqual([
      `plan.yml:5:17: tasks[0].items_from: file list.txt lists no items, and required: true asks for at least one`,
    ]);
  });

  test("strict makes every warning an error", async () => {
    expect(await errorsOf(sums(`{ glob: "data/*.csv" }`), {}, { strict: true })).toEqual([
      `plan.yml:5:17: tasks[0].items_from: glob "data/*.csv" matched no files: task "sums" has no instances (an error with --strict)`,
    ]);
  });

  test("required: true with matches, and required: false, load as usual", async () => {
    const dir = writeFiles({ "plan.yml": sums(`{ glob: "*.csv", required: true }`), "a.csv": "" });
    expect((await loadPlan(join(dir, "plan.yml"), { strict: true })).tasks[0]!.items).toEqual([join(dir, "a.csv")]);
    const none = writeFiles({ "plan.yml": sums(`{ glob: "*.csv", required: false }`) });
    expect((await loadPlan(join(none, "plan.yml"))).warnings).toHaveLength(1);
  });

  test("fanout run --strict: exit 2 with the message; without it the run goes on", () => {
    const dir = writeFiles({ "plan.yml": sums(`{ glob: "data/*.csv" }`) });
    mkdirSync(join(dir, "data"));
    const cli = resolve(import.meta.dir, "../../cli.ts");
    const run = (...flags: string[]) => spawnSync(process.execPath, ["--no-install", cli, "run", "plan.yml", "-q", ...flags], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    const strict = run("--strict");
    expect([strict.status, strict.stderr]).toEqual([2, `error: plan.yml:5:17: tasks[0].items_from: glob "data/*.csv" matched no files: task "sums" has no instances (an error with --strict)\n`]);
    expect(run("--strict", "--dry-run").status).toBe(2);
    expect(run().status).not.toBe(2);
  });
});

const fromVar = (items: string, vars = "pkgs: [curl, jq]\n  word: hello\n  nested: { list: [1, 2] }") => `version: 1
vars:
  ${vars}
tasks:
  - name: each
    module: shell
    items: ${items}
    with: { argv: [echo, "{{ item }}"] }
`;

describe("items › from a list var", () => {
  test("the var's list becomes the task's items, a dotted path too, and --var cannot set a list", async () => {
    const dir = writeFiles({ "plan.yml": fromVar(`"{{ vars.pkgs }}"`), "nested.yml": fromVar(`"{{ vars.nested.list }}"`) });
    expect((await loadPlan(join(dir, "plan.yml"))).tasks[0]!.items).toEqual(["curl", "jq"]);
    expect((await loadPlan(join(dir, "nested.yml"))).tasks[0]!.items).toEqual([1, 2]);
    expect(await errorsOf(fromVar(`"{{ vars.pkgs }}"`), {}, { vars: { pkgs: "curl" } })).toEqual([
      `plan.yml:9:12: tasks[0].items: vars.pkgs is a string from --var pkgs=…, and items need a list: set it under vars: in the plan`,
    ]);
  });

  test("a var that is not a list is an error at the var; a missing one at items; other strings are refused", async () => {
    expect(await errorsOf(fromVar(`"{{ vars.word }}"`))).toEqual([
      `plan.yml:4:9: vars.word: expected a list, got a string: tasks[0].items takes its items from vars.word`,
    ]);
    expect(await errorsOf(fromVar(`"{{ vars.pkg }}"`))).toEqual([
      `plan.yml:9:12: tasks[0].items: {{ vars.pkg }}: no "pkg" in vars; it has: pkgs, word, nested`,
    ]);
    expect(await errorsOf(fromVar(`"{{ item }}"`))).toEqual([
      `plan.yml:9:12: tasks[0].items: expected items as a list, or as "{{ vars.name }}" naming a list in vars, got "{{ item }}"`,
    ]);
  });

  test("a template naming a field of the items is checked against the var's list", async () => {
    const plan = fromVar(`"{{ vars.pkgs }}"`).replace(`"{{ item }}"`, `"{{ item.name }}"`);
    expect(await errorsOf(plan)).toEqual([
      `plan.yml:10:26: tasks[0].with.argv[1]: {{ item.name }}: items[0] is a string ("curl"), not a mapping with "name"`,
    ]);
  });
});
