/**
 * Secrets and the journal, from real runs with the real file: no byte of the
 * journal holds a secret's value (in clear or JSON-escaped), a resumed run
 * with the same secret is cached, and a changed secret re-runs exactly the
 * instances whose input uses it. What ran is counted from marker files the
 * instances write themselves.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fanoutArgv } from "../runtime/fanout_runtimes.ts";
import { runProcess, writeFiles } from "../test_helpers.ts";

const SECRET = "tok-9f3a7c51e2";
const OTHER = "pw-41d8cd98f0";

function plan(): string {
  return `version: 1
name: secret-keys
secrets:
  token: { env: JOURNAL_TEST_TOKEN }
  password: { env: JOURNAL_TEST_PASSWORD }
tasks:
  - name: uses-token
    module: shell
    items: [a, b]
    with: { argv: [sh, -c, "mkdir -p m && echo run >> m/token-$1 && echo \\"token=$2\\" && exit 0", sh, "{{ item }}", "{{ secrets.token }}"] }
  - name: no-secret
    module: shell
    needs: []
    with: { argv: [sh, -c, "mkdir -p m && echo run >> m/plain"] }
  - name: fails-with-password
    module: shell
    needs: []
    with: { argv: [sh, -c, "echo \\"password=$1\\" >&2; exit 3", sh, "{{ secrets.password }}"] }
`;
}

async function run(dir: string, env: Record<string, string>, ...args: string[]) {
  const r = await runProcess([...fanoutArgv("bun"), "run", "plan.yml", "--json", "-q", ...args], { cwd: dir, env: { ...process.env, ...env }, timeoutMs: 120_000 });
  const ends = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === "task_end");
  return { ...r, status: Object.fromEntries(ends.map((e) => [e.id, e.status])) };
}

function executions(dir: string): Record<string, number> {
  const m = join(dir, "m");
  if (!existsSync(m)) return {};
  return Object.fromEntries(readdirSync(m).map((f) => [f, readFileSync(join(m, f), "utf8").split("\n").filter(Boolean).length]));
}

/** Every byte of the journal's files (the WAL too, where rows may still be). */
function journalBytes(dir: string): string {
  const d = join(dir, ".fanout");
  return readdirSync(d).map((f) => readFileSync(join(d, f)).toString("latin1")).join("\n");
}

describe("the journal and secrets", () => {
  test("no byte of the journal holds a secret; resume caches; a new secret value re-runs exactly what uses it", async () => {
    const dir = writeFiles({ "plan.yml": plan() });
    const env = { JOURNAL_TEST_TOKEN: SECRET, JOURNAL_TEST_PASSWORD: OTHER };
    const first = await run(dir, env);
    expect(first.code).toBe(1);
    expect(first.status).toEqual({ "uses-token[localhost][a]": "ok", "uses-token[localhost][b]": "ok", "no-secret[localhost]": "ok", "fails-with-password[localhost]": "failed" });
    const bytes = journalBytes(dir);
    for (const value of [SECRET, OTHER]) expect(bytes).not.toContain(value);
    // The failure's text is recorded, masked.
    expect(bytes).toContain("password=***");

    const resumed = await run(dir, env, "--resume");
    expect(resumed.status["uses-token[localhost][a]"]).toBe("cached");
    expect(resumed.status["no-secret[localhost]"]).toBe("cached");
    expect(executions(dir)).toEqual({ "token-a": 1, "token-b": 1, plain: 1 });

    const rotated = await run(dir, { ...env, JOURNAL_TEST_TOKEN: "tok-rotated-0b7e" }, "--resume");
    expect(rotated.status["uses-token[localhost][a]"]).toBe("ok");
    expect(rotated.status["no-secret[localhost]"]).toBe("cached");
    expect(executions(dir)).toEqual({ "token-a": 2, "token-b": 2, plain: 1 });
    expect(journalBytes(dir)).not.toContain("tok-rotated-0b7e");
  });
});

describe("the journal and JSON-escaped secrets", () => {
  test("a secret with a quote and a backslash, printed by a command into its result data, is in no byte of the journal, raw or escaped", async () => {
    const value = 'q"t\\k-7d2e51';
    const dir = writeFiles({
      "plan.yml": `version: 1
name: escaped
secrets: { odd: { env: JOURNAL_TEST_ODD } }
tasks:
  - { name: say, module: shell, with: { argv: [sh, -c, "printf '%s' \\"$1\\"", sh, "{{ secrets.odd }}"] } }
`,
    });
    const r = await runProcess([...fanoutArgv("bun"), "run", "plan.yml", "--json", "-q"], { cwd: dir, env: { ...process.env, JOURNAL_TEST_ODD: value }, timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    const bytes = journalBytes(dir);
    // Booleans: a failure must not print the bytes it found the value in.
    expect(bytes.includes('"stdout":"***"')).toBe(true);
    expect({ raw: bytes.includes(value), escaped: bytes.includes(JSON.stringify(value).slice(1, -1)) }).toEqual({ raw: false, escaped: false });
  });
});
