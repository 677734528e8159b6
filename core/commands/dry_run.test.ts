/** `fanout run --dry-run`: the bytes it prints, its JSON lines, and the inputs it refuses (exit 2), from real runs of the CLI. */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { runProcess, writeFiles } from "../test_helpers.ts";

const CLI = resolve(import.meta.dir, "../../cli.ts");

const PLAN = `version: 1
name: dry
vars: { word: hi, dir: 5, list: [a, b] }
secrets: { token: { env: FANOUT_DRY_TOKEN } }
tasks:
  - name: greet
    module: shell
    timeout: 30s
    retries: 2
    with: { argv: [echo, "{{ vars.word }}", "it's", "{{ secrets.token }}"] }
  - name: each
    module: shell
    items: "{{ vars.list }}"
    hint: { kind: host_exclusive, key: "lock-{{ item }}" }
    with: { cmd: "touch {{ item }}.txt", shell: true }
  - name: note
    module: debug
    needs: []
    with: { message: "{{ host }} says {{ secrets.token }}" }
  - name: quick
    needs: []
    race:
      - { module: sleep, with: { duration: 1ms } }
      - { module: shell, with: { argv: ["true"] } }
`;

const TOKEN = "s3cr'et value";

async function dryRun(plan: string, ...args: string[]) {
  const dir = writeFiles({ "plan.yml": plan });
  const r = await runProcess([process.execPath, "--no-install", CLI, "run", "plan.yml", "--dry-run", ...args], {
    cwd: dir,
    env: { ...process.env, FANOUT_DRY_TOKEN: TOKEN },
  });
  return { ...r, dir };
}

describe("--dry-run", () => {
  test("prints each instance's command or input, timeout, retries and guards, like make -n; secrets as ***; runs nothing", async () => {
    const r = await dryRun(PLAN);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toBe([
      "plan dry: 5 instances, forks 3 (3: 3 tasks can run at once: greet 1 (instances), note 1 (instances), quick 1 (instances))",
      "greet[localhost]  module shell  guards none  timeout 30.0s  retries 2 (200ms apart)",
      "  $ echo hi 'it'\\''s' '***'",
      "each[localhost][a]  module shell  guards host:lock-a  after greet[localhost]",
      "  $ touch a.txt",
      "each[localhost][b]  module shell  guards host:lock-b  after greet[localhost]",
      "  $ touch b.txt",
      "note[localhost]  module debug  guards none",
      `  with {"message":"localhost says ***"}`,
      "quick[localhost]  module race(sleep, shell)  guards none",
      `  race[0] sleep: with {"duration":"1ms"}`,
      "  race[1] shell: $ true",
      "",
    ].join("\n"));
    expect(r.stdout).not.toContain("s3cr");
    expect(existsSync(join(r.dir, "a.txt"))).toBe(false);
  }, 60_000);

  test("--json: one line per instance with input, command, timeout_ms, retries; a race lists its alternatives", async () => {
    const r = await dryRun(PLAN, "--json");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: "plan", plan: "dry", instances: 5 });
    const byId = Object.fromEntries(lines.slice(1).map((l) => [l.id, l]));
    expect(byId["greet[localhost]"]).toMatchObject({
      input: { argv: ["echo", "hi", "it's", "***"] },
      command: "echo hi 'it'\\''s' '***'",
      timeout_ms: 30_000,
      retries: 2,
      retry_delay_ms: 200,
      guards: [],
    });
    expect(byId["each[localhost][b]"]).toMatchObject({ item: "b", command: "touch b.txt", timeout_ms: null, retries: 0, guards: [{ name: "host:lock-b", amount: 1, capacity: 1 }] });
    expect(byId["note[localhost]"]).toMatchObject({ input: { message: "localhost says ***" }, command: null });
    expect(byId["quick[localhost]"]).toMatchObject({
      input: null,
      command: null,
      race: [{ module: "sleep", input: { duration: "1ms" }, command: null }, { module: "shell", input: { argv: ["true"] }, command: "true" }],
    });
    expect(r.stdout).not.toContain("s3cr");
  }, 60_000);

  test("an input that a var makes invalid is exit 2 naming each instance and the problem; stdout has no listing", async () => {
    const bad = `version: 1
vars: { dir: 5, words: [a, b] }
tasks:
  - name: in_dir
    module: shell
    items: [1, 2]
    with: { argv: [ls], cwd: "{{ vars.dir }}" }
  - name: words
    module: shell
    with: { argv: [echo, "{{ vars.words }}"] }
`;
    const r = await dryRun(bad);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, "", [
      // At the task's with:, where the value that a var made invalid is written.
      "error: plan.yml:7:11: tasks[0].with: in_dir[localhost][1]: invalid input for module shell: cwd: expected cwd as a path",
      "error: plan.yml:7:11: tasks[0].with: in_dir[localhost][2]: invalid input for module shell: cwd: expected cwd as a path",
      "error: plan.yml:10:11: tasks[1].with: words[localhost]: invalid input for module shell: argv.1: expected argv entries as strings",
      "",
    ].join("\n")]);
    const json = await dryRun(bad, "--json");
    expect(json.code).toBe(2);
    expect(json.stdout.trim().split("\n").map((l) => JSON.parse(l))[2]).toMatchObject({
      type: "error", kind: "plan", exit_code: 2, line: 10, col: 11, path: "tasks[1].with",
      message: expect.stringContaining("words[localhost]: invalid input for module shell: argv.1: expected argv entries as strings"),
    });
    // The same plan with good values from --var passes.
    const fixed = await dryRun(bad, "--var", "dir=/tmp", "--var", "words=x");
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain("words[localhost]  module shell  guards none  after in_dir[localhost]\n  $ echo x\n");
  }, 60_000);
});
