/**
 * Secrets in real runs, under Bun, Deno and the compiled binary: the value
 * reaches the command (the child writes it to a file, the test reads the
 * bytes), and never appears in --json stdout, stderr, human output, a
 * failing command's error, plugin result data, a log line, --output tag's
 * streamed lines or --dry-run.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FANOUT_RUNTIMES, fanoutArgv } from "../runtime/fanout_runtimes.ts";
import { writeFiles } from "../test_helpers.ts";

/** Quotes, `$(…)`, a space: everything a shell or JSON would escape, no backslash (dash's echo would rewrite it). */
const TOKEN = `Tk"9$(id)'z q-${process.pid}`;
const FILE_SECRET = `file-secret-${process.pid}-Q7`;
const ENV_NAME = "FANOUT_TEST_SECRET_TOKEN";

const PLUGIN = `import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import type { TaskContext } from "fanout";
export default async function run(input: { word: string }, ctx: TaskContext) {
  ctx.log.warn("warned " + ctx.secrets.token);
  process.stderr.write("direct " + ctx.secrets.token + "\\n");
  // Its own file: not fanout's output, so not masked (docs/secrets.md).
  writeFileSync(join(ctx.planDir, "plugin_saw.txt"), ctx.secrets.file_tok + "|" + input.word);
  return { changed: false, data: { secret: ctx.secrets.token, nested: { [ctx.secrets.file_tok]: [input.word] } } };
}
`;

const PLAN = `version: 1
secrets:
  token: { env: ${ENV_NAME} }
  file_tok: { file: keys/tok.txt }
plugins: { probe: ./probe.ts }
tasks:
  - name: write
    module: shell
    with: { cmd: "printf %s {{ secrets.token }} > from_env.txt; printf %s {{ secrets.file_tok }} > from_file.txt", shell: true }
  - name: echo_fail
    needs: []
    module: shell
    with: { cmd: "echo token={{ secrets.token }}; echo file={{ secrets.file_tok }} >&2; exit 1", shell: true }
  - name: argv_fail
    needs: []
    module: shell
    with: { argv: ["./missing-{{ secrets.file_tok }}"] }
  - name: split
    needs: []
    module: shell
    # The value leaves the child in two writes, a pause apart: two chunks on the pipe.
    with: { argv: [sh, -c, 'printf %s "$1" | head -c 6 >&2; sleep 0.3; printf %s "$1" | tail -c +7 >&2; exit 3', sh, "{{ secrets.token }}"] }
  - name: plugin
    needs: []
    module: probe
    with: { word: "{{ secrets.token }}" }
  - name: listed
    needs: []
    module: sleep
    with: { duration: 1ms }
    items_from: { file: items.txt }
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function fanout(argv: string[], cwd: string, env: Record<string, string | undefined>, args: string[]): Run {
  const r = spawnSync(argv[0]!, [...argv.slice(1), ...args], { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Neither secret, nor the token as JSON writes it inside a string. */
function expectClean(text: string): void {
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(JSON.stringify(TOKEN).slice(1, -1));
  expect(text).not.toContain(FILE_SECRET);
}

function project(): string {
  return writeFiles({
    "plan.yml": PLAN,
    "probe.ts": PLUGIN,
    "keys/tok.txt": `${FILE_SECRET}\n`,
    "items.txt": `item-${FILE_SECRET}\nplain\n`,
  });
}

const runners: Record<string, string[]> = {};
beforeAll(() => {
  for (const runtime of FANOUT_RUNTIMES) runners[runtime] = fanoutArgv(runtime);
}, 180_000);

describe.each(FANOUT_RUNTIMES)("secrets in a real run › %s", (runtime) => {
  test("--json: the values reach the command and the plugin; stdout and stderr hold only ***", () => {
    const dir = project();
    const run = fanout(runners[runtime]!, dir, { [ENV_NAME]: TOKEN }, ["run", "plan.yml", "--json"]);
    expect(run.code).toBe(1);
    // The child got the exact bytes, through the shell's quoting.
    expect(readFileSync(join(dir, "from_env.txt"), "utf8")).toBe(TOKEN);
    expect(readFileSync(join(dir, "from_file.txt"), "utf8")).toBe(FILE_SECRET);
    expect(readFileSync(join(dir, "plugin_saw.txt"), "utf8")).toBe(`${FILE_SECRET}|${TOKEN}`);

    expectClean(run.stdout);
    expectClean(run.stderr);
    const events = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const end = (task: string) => events.find((e) => e.type === "task_end" && e.task === task);
    expect(end("write").status).toBe("ok");
    expect(end("echo_fail").data.stdout).toBe("token=***\n");
    expect(end("echo_fail").error).toBe("/bin/sh: exit code 1: file=***");
    expect(end("argv_fail").error).toContain("missing-***");
    expect(end("split").data.stderr).toBe("***");
    expect(end("split").error).toBe("sh: exit code 3: ***");
    expect(end("plugin").data).toEqual({ secret: "***", nested: { "***": ["***"] } });
    expect(events.filter((e) => e.type === "log").map((e) => e.message)).toContain("warned ***");
    expect(events.filter((e) => e.type === "task_end" && e.task === "listed").map((e) => e.item).sort()).toEqual(["item-***", "plain"]);
    // What the plugin wrote to process.stderr itself is masked too.
    expect(run.stderr).toContain("direct ***");
  }, 120_000);

  test("--output tag: lines streamed as they come hold only ***, a value the pipe delivered in two chunks too", () => {
    const dir = project();
    const run = fanout(runners[runtime]!, dir, { [ENV_NAME]: TOKEN }, ["run", "plan.yml", "--output", "tag", "-q"]);
    expect(run.code).toBe(1);
    expectClean(run.stdout);
    expectClean(run.stderr);
    expect(run.stdout).toContain("echo_fail[localhost]\ttoken=***\n");
    expect(run.stderr).toContain("echo_fail[localhost]\tfile=***\n");
    // Written in two pieces 0.3 s apart, with no line break: held until the stream ended, then masked whole.
    expect(run.stderr).toContain("split[localhost]\t***\n");
  }, 120_000);

  test("the --junit and --summary files hold only ***", () => {
    const dir = project();
    const run = fanout(runners[runtime]!, dir, { [ENV_NAME]: TOKEN }, ["run", "plan.yml", "-q", "--junit", "report.xml", "--summary", "summary.json"]);
    expect(run.code).toBe(1);
    const junit = readFileSync(join(dir, "report.xml"), "utf8");
    const summary = readFileSync(join(dir, "summary.json"), "utf8");
    for (const text of [junit, summary]) expectClean(text);
    // XML escapes the token's quotes: not there escaped either.
    expect(junit).not.toContain(TOKEN.replaceAll('"', "&quot;").replaceAll("'", "&apos;"));
    expect(junit).toContain("file=***");
    expect(JSON.parse(summary).failed).toBeGreaterThan(0);
  }, 120_000);

  test("human output and --dry-run hold only ***", () => {
    const dir = project();
    const human = fanout(runners[runtime]!, dir, { [ENV_NAME]: TOKEN }, ["run", "plan.yml", "--verbose"]);
    expect(human.code).toBe(1);
    expectClean(human.stdout);
    expectClean(human.stderr);
    expect(human.stderr).toContain("failed    echo_fail[localhost]");
    expect(human.stderr).toContain(": /bin/sh: exit code 1: file=***");
    expect(human.stderr).toContain("warned ***");

    for (const args of [["--dry-run"], ["--dry-run", "--json"]]) {
      const dry = fanout(runners[runtime]!, dir, { [ENV_NAME]: TOKEN }, ["run", "plan.yml", ...args]);
      expect(dry.code).toBe(0);
      expectClean(dry.stdout);
      expectClean(dry.stderr);
      expect(dry.stdout).toContain("listed[localhost][item-***]");
    }
  }, 120_000);

  test("a variable that is not set: exit 2 naming the secret, the variable and the position; nothing ran", () => {
    const dir = project();
    const run = fanout(runners[runtime]!, dir, { [ENV_NAME]: undefined }, ["run", "plan.yml", "--json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`plan.yml:3:17: secrets.token.env: secret "token": environment variable ${ENV_NAME} is not set`);
    const [event] = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(event).toMatchObject({ type: "error", kind: "plan", exit_code: 2, line: 3, col: 17, path: "secrets.token.env" });
    expect(() => readFileSync(join(dir, "from_file.txt"))).toThrow();
  }, 120_000);

  test("a plugin given as a URL or a package: exit 2 at its position", () => {
    const dir = writeFiles({
      "plan.yml": `version: 1\nplugins:\n  web: "https://example.com/p.ts"\n  pkg: "npm:left-pad"\ntasks:\n  - { name: a, module: web }\n`,
    });
    const run = fanout(runners[runtime]!, dir, {}, ["run", "plan.yml"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`plan.yml:3:8: plugins.web: "https://example.com/p.ts" is a remote https: URL; plugins are local files`);
    expect(run.stderr).toContain(`plan.yml:4:8: plugins.pkg: "npm:left-pad" is a npm: package; plugins are local files`);
  }, 120_000);
});
