/**
 * The command line as users meet it: real processes, real exit codes, stdout
 * and stderr kept apart.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFiles } from "./core/test_helpers.ts";
import { VERSION } from "./core/version.ts";

const ROOT = import.meta.dir;
const BUN = process.execPath;

function fanout(args: string[], cwd = ROOT) {
  const r = spawnSync(BUN, ["--no-install", join(ROOT, "cli.ts"), ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ndjson(text: string): Record<string, unknown>[] {
  return text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

describe("fanout CLI", () => {
  test("--version: fanout's version, the commit of this checkout, the runtime; run_start carries the same commit", () => {
    const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    for (const flag of ["--version", "-v"]) {
      expect(fanout([flag])).toEqual({ code: 0, stdout: `fanout ${VERSION} (${head.slice(0, 7)}) bun ${Bun.version}\n`, stderr: "" });
    }
    const start = ndjson(fanout(["run", "examples/hello.yml", "--json", "-q"]).stdout)[0]!;
    expect([start.type, start.version, start.commit]).toEqual(["run_start", VERSION, head]);
  });

  test("help: `fanout help`, `help <command>` and --help print to stdout and exit 0; bare `fanout` is exit 2 with the overview on stderr", () => {
    const overview = fanout(["help"]);
    expect(overview.code).toBe(0);
    for (const name of ["run <plan>", "probe [path]", "types [dir]", "schema", "check <plugin>", "init [dir]", "help [command]", "-v, --version"]) expect(overview.stdout).toContain(name);
    expect(fanout(["--help"]).stdout).toBe(overview.stdout);
    const run = fanout(["help", "run"]);
    expect(run.code).toBe(0);
    for (const flag of ["--parallelism <n>", "--dry-run", "--no-color", "--junit <file>", "--summary <file>", "--output <mode>", "--progress <mode>", "-h, --help"]) expect(run.stdout).toContain(flag);
    expect(run.stdout).not.toContain("--version");
    expect(fanout(["run", "--help"]).stdout).toBe(run.stdout);
    expect(fanout(["run", "-h"]).stdout).toBe(run.stdout);
    expect(fanout(["help", "probe"]).stdout).toContain("--calibrate");
    expect(fanout(["help", "types"]).stdout).toContain("fanout types plugins/");
    expect(fanout(["help", "schema"]).stdout).toContain("fanout schema > fanout.schema.json");
    expect(fanout(["help", "check"]).stdout).toContain("fanout check plugins/hello.ts");
    expect(fanout(["help", "init"]).stdout).toContain("fanout init hello");
    expect(fanout(["help", "help"]).code).toBe(0);
    const bare = fanout([]);
    expect([bare.code, bare.stdout, bare.stderr]).toEqual([2, "", overview.stdout]);
    const unknown = fanout(["help", "rum"]);
    expect([unknown.code, unknown.stderr]).toEqual([2, `error: unknown command "rum" (did you mean "run"?); expected one of: run, worker, explain, probe, history, types, schema, check, init, completion, help\nRun "fanout help" for usage.\n`]);
  });

  test("exit 0 when every instance succeeds; --json writes only NDJSON to stdout", () => {
    const r = fanout(["run", "examples/hello.yml", "--json", "-p", "8"]);
    expect(r.code).toBe(0);
    const events = ndjson(r.stdout);
    expect(events[0]!.type).toBe("run_start");
    expect(events.at(-1)!.type).toBe("run_end");
    expect(events[0]!.parallelism).toMatchObject({ mode: "manual", effective: 8 });
    expect(r.stderr).toContain("27 ok, 0 failed of 27");
  });

  test("a plan of one shell command runs to its end before the program exits", () => {
    const dir = writeFiles({ "plan.yml": "version: 1\ntasks:\n  - { name: one, module: shell, with: { argv: [echo, hi] } }\n" });
    const r = spawnSync(BUN, ["--no-install", join(ROOT, "cli.ts"), "run", "plan.yml", "--json", "-q"], { cwd: dir, encoding: "utf8" });
    expect(r.status).toBe(0);
    const events = ndjson(r.stdout);
    expect(events.find((e) => e.type === "task_end")).toMatchObject({ status: "ok", data: { stdout: "hi\n" } });
    expect(events.at(-1)!.type).toBe("run_end");
  });

  test("exit 1 when an instance fails; fail-fast and keep-going are exclusive", () => {
    const r = fanout(["run", "fixtures/all_hints.yml", "--json", "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const end = ndjson(r.stdout).at(-1) as { summary: Record<string, number> };
    expect([end.summary.failed, end.summary.skipped, end.summary.ok]).toEqual([1, 1, 14]);
    const both = fanout(["run", "fixtures/all_hints.yml", "--fail-fast", "--keep-going"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("contradict");
  });

  test("exit 2 for an invalid plan, with file:line:col, and nothing runs", () => {
    const dir = writeFiles({
      "plan.yml": "version: 1\ntasks:\n  - name: marker\n    module: shell\n    with: { argv: [touch, ran] }\n  - name: bad\n    module: aptt\n",
    });
    const r = fanout(["run", "plan.yml", "--json"], dir);
    expect(r.code).toBe(2);
    expect(ndjson(r.stdout).map((e) => e.type)).toEqual(["error"]);
    expect(r.stderr).toContain(`plan.yml:7:13: tasks[1].module: unknown module "aptt"`);
    expect(spawnSync("test", ["-e", join(dir, "ran")]).status).toBe(1);
  });

  test("exit 2 for bad usage: unknown flag, bad --parallelism, bad --var, unknown command", () => {
    expect(fanout(["run", "examples/hello.yml", "--bogus"]).code).toBe(2);
    const p = fanout(["run", "examples/hello.yml", "-p", "0"]);
    expect([p.code, p.stderr.includes("--parallelism")]).toEqual([2, true]);
    expect(fanout(["run", "examples/hello.yml", "--var", "novalue"]).code).toBe(2);
    expect(fanout(["launch"]).code).toBe(2);
  });

  test("an option the command does not have is exit 2 with a message naming it; nothing runs, nothing is written", () => {
    const dir = writeFiles({ "plan.yml": "version: 1\ntasks:\n  - { name: marker, module: shell, with: { argv: [touch, ran] } }\n" });
    const cases: [string[], string][] = [
      [["run", "plan.yml", "-v"], "unknown option -v (did you mean --verbose?)"],
      [["-v", "run", "plan.yml"], "unknown option -v (did you mean --verbose?)"],
      [["run", "plan.yml", "--version"], "unknown option --version (fanout's version: fanout --version)"],
      [["run", "plan.yml", "--dry-rnu"], "unknown option --dry-rnu (did you mean --dry-run?)"],
      [["run", "plan.yml", "--no-colour"], "unknown option --no-colour (did you mean --no-color?)"],
      [["run", "plan.yml", "-j", "4"], "unknown option -j (did you mean --parallelism?)"],
      [["probe", "-v"], "unknown option -v (fanout's version: fanout --version)"],
      [["types", "-v"], "unknown option -v (fanout's version: fanout --version)"],
      [["types", "--json"], "unknown option --json"],
      [["--bogus"], "unknown option --bogus"],
    ];
    for (const [args, message] of cases) {
      const r = fanout(args, dir);
      const command = ["run", "probe", "types"].find((c) => args.includes(c));
      const hint = `Run "fanout help${command ? ` ${command}` : ""}" for usage.\n`;
      expect([args, r.code, r.stdout, r.stderr]).toEqual([args, 2, "", `error: ${message}\n${hint}`]);
    }
    expect(readdirSync(dir)).toEqual(["plan.yml"]);
    // The negation of a declared flag is still the flag.
    expect(fanout(["run", "plan.yml", "--no-color", "-q"], dir).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([".fanout", "plan.yml", "ran"]);
  });

  test("`run -` reads the plan from stdin: paths resolve against the current directory, errors say <stdin>:line:col", () => {
    const dir = writeFiles({ "data.txt": "hello\n" });
    const plan = "version: 1\ntasks:\n  - { name: sum, module: checksum, with: { path: data.txt } }\n";
    const r = spawnSync(BUN, ["--no-install", join(ROOT, "cli.ts"), "run", "-", "--json", "-q"], { cwd: dir, input: plan, encoding: "utf8" });
    expect(r.status).toBe(0);
    const events = ndjson(r.stdout);
    expect(events[0]).toMatchObject({ type: "run_start", plan: "<stdin>" });
    expect(events.find((e) => e.type === "task_end")).toMatchObject({ status: "ok", bytes: 6 });
    const dry = spawnSync(BUN, ["--no-install", join(ROOT, "cli.ts"), "run", "--dry-run", "-"], { cwd: dir, input: plan, encoding: "utf8" });
    expect([dry.status, dry.stdout.includes("sum[localhost]")]).toEqual([0, true]);
    const bad = spawnSync(BUN, ["--no-install", join(ROOT, "cli.ts"), "run", "-"], { cwd: dir, input: "version: 1\ntasks:\n  - name: x\n    module: aptt\n", encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toStartWith(`error: <stdin>:4:13: tasks[0].module: unknown module "aptt"`);
  });

  test("with --json, an error that stops the run before it starts is also an error event on stdout, one per problem", () => {
    const dir = writeFiles({
      "plan.yml": "version: 1\ntasks:\n  - name: x\n    module: aptt\n  - name: y\n    module: shelll\n",
      "plugin.yml": "version: 1\nplugins: { mine: ./missing.ts }\ntasks:\n  - { name: x, module: mine }\n",
    });
    const plan = fanout(["run", "plan.yml", "--json"], dir);
    expect(plan.code).toBe(2);
    const events = ndjson(plan.stdout);
    expect(events.map((e) => [e.type, e.kind, e.exit_code, e.file, e.line, e.col, e.path])).toEqual([
      ["error", "plan", 2, "plan.yml", 4, 13, "tasks[0].module"],
      ["error", "plan", 2, "plan.yml", 6, 13, "tasks[1].module"],
    ]);
    // stderr keeps the human text, line for line the same messages.
    expect(plan.stderr).toBe(events.map((e) => `error: ${e.message}\n`).join(""));
    const plugin = ndjson(fanout(["run", "plugin.yml", "--json"], dir).stdout);
    expect(plugin).toEqual([{ type: "error", kind: "plugin", exit_code: 2, file: join(dir, "missing.ts"), line: null, col: null, path: null, message: `${join(dir, "missing.ts")}: file not found` }]);
    for (const args of [["run", "plan.yml", "--json", "-p", "0"], ["run", "plan.yml", "--json", "-v"]]) {
      const r = fanout(args, dir);
      expect([r.code, ndjson(r.stdout).map((e) => [e.type, e.kind, e.exit_code])]).toEqual([2, [["error", "usage", 2]]]);
    }
    // Without --json stdout stays empty.
    expect(fanout(["run", "plan.yml"], dir).stdout).toBe("");
  });

  test("`fanout types` into a path that is not a writable directory is exit 2 with a message naming it", () => {
    const dir = writeFiles({ "some-file.txt": "x" });
    for (const target of ["some-file.txt", "some-file.txt/sub"]) {
      const r = fanout(["types", target], dir);
      expect([r.code, r.stdout, r.stderr]).toEqual([2, "", `error: cannot write fanout.d.ts into ${target}: it is not a directory\nRun "fanout help types" for usage.\n`]);
    }
  });

  test("every example plan is valid (dry run) and the plugin and file examples run", () => {
    const plans = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".yml"));
    expect(plans.length).toBeGreaterThanOrEqual(3);
    for (const plan of plans) expect([plan, fanout(["run", `examples/${plan}`, "--dry-run"]).code]).toEqual([plan, 0]);
    const files = fanout(["run", "examples/files.yml", "--json", "-q"]);
    expect(files.code).toBe(0);
    const ids = ndjson(files.stdout).filter((e) => e.type === "task_end").map((e) => e.id);
    expect(ids).toContain("digest[localhost][data/part-1.csv]");
    rmSync(join(ROOT, "examples/backup"), { recursive: true, force: true });
    expect(fanout(["run", "examples/plugin.yml", "--json", "-q"]).code).toBe(0);
  });

  test("--var overrides plan vars", () => {
    const r = fanout(["run", "examples/hello.yml", "--json", "-q", "--var", "greeting=hi"]);
    const log = ndjson(r.stdout).find((e) => e.type === "log") as { message: string };
    expect(log.message).toStartWith("hi from ");
  });

  test("--dry-run lists every instance with its guards and runs nothing", () => {
    const r = fanout(["run", "fixtures/all_hints.yml", "--dry-run", "--json"]);
    expect(r.code).toBe(0);
    const lines = ndjson(r.stdout);
    expect(lines[0]).toMatchObject({ type: "plan", plan: "all-hints", instances: 16, forks: 4 });
    const byId = Object.fromEntries(lines.slice(1).map((l) => [l.id, l]));
    expect(Object.keys(byId).length).toBe(16);
    expect((byId["install[web1][a]"]!.guards as { name: string }[]).map((g) => g.name)).toEqual(["cpu", "host:web1"]);
    expect((byId["throttled[web2][3]"]!.guards as { name: string }[]).map((g) => g.name)).toEqual(["bucket:sleep"]);
    expect((byId["cluster[web2]"]!.guards as { name: string }[]).map((g) => g.name)).toEqual(["global:default"]);
    expect(byId["cluster[web1]"]!.needs).toEqual(["install[web1]"]);
    const human = fanout(["run", "fixtures/all_hints.yml", "--dry-run"]);
    expect(human.stdout).toContain("install[web1][a]  module pkg  guards cpu, host:web1");
  });

  test("a reader that closes the pipe early (| head) is not an error, under Bun and Deno", () => {
    const deno = join(ROOT, "node_modules/.bin/deno");
    for (const runner of [`"${BUN}" --no-install`, `"${deno}" run -A`]) {
      for (const args of ["--dry-run", "--json -q", "--dry-run --json"]) {
        const r = spawnSync("sh", ["-c", `${runner} cli.ts run examples/hello.yml ${args} | head -n 1 >/dev/null`], { cwd: ROOT, encoding: "utf8" });
        expect(`${runner} ${args}: ${r.stderr}`).toBe(`${runner} ${args}: `);
      }
    }
  });

  test("SIGINT cancels the run, kills children, exits 130", async () => {
    const dir = writeFiles({ "plan.yml": "version: 1\ntasks:\n  - { name: wait, module: shell, with: { argv: [sleep, '30'] } }\n" });
    const { spawn } = await import("node:child_process");
    const child = spawn(BUN, ["--no-install", join(ROOT, "cli.ts"), "run", "plan.yml", "--json"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let sent = false;
    child.stdout.on("data", (d) => {
      out += d;
      if (!sent && out.includes('"task_start"')) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((r) => child.on("close", r));
    expect(code).toBe(130);
    const end = ndjson(out).find((e) => e.type === "task_end") as { status: string };
    expect(end.status).toBe("cancelled");
  });
});

test("package.json and core/version.ts agree on the version", async () => {
  const pkg = await import(resolve(ROOT, "package.json"), { with: { type: "json" } });
  expect(pkg.default.version).toBe(VERSION);
});
