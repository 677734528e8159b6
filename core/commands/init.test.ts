/**
 * `fanout init`: what it writes runs as it is (through the compiled binary),
 * its plan validates against the schema it writes, its plugin type-checks
 * with `deno check` and tsc with nothing installed beside it, and it never
 * overwrites a file.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { DENO, fanoutArgv } from "../runtime/fanout_runtimes.ts";
import { ROOT } from "../runtime/plugin_fixtures.ts";
import { tempDir } from "../test_helpers.ts";
import { INIT_FILES } from "./init.ts";

function binary(args: string[], cwd: string) {
  const [bin, ...rest] = fanoutArgv("binary");
  return spawnSync(bin!, [...rest, ...args], { cwd, encoding: "utf8" });
}

function tsc(cwd: string) {
  // Under Node when the machine has it: many times faster than under Bun on a loaded machine.
  const node = spawnSync("node", ["--version"]).status === 0 ? "node" : process.execPath;
  const r = spawnSync(node, [join(ROOT, "node_modules/typescript/lib/tsc.js"), "-p", "."], { cwd, encoding: "utf8" });
  return { status: r.status, errors: r.stdout.split("\n").filter((l) => l.includes("error TS")) };
}

function denoCheck(cwd: string) {
  const r = spawnSync(DENO, ["check", "plugins/hello.ts"], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: r.status, errors: r.stderr.split("\n").filter((l) => l.includes("ERROR")) };
}

describe("fanout init", () => {
  test("writes a project that runs through the binary, validates against its schema and type-checks", () => {
    const dir = tempDir("fanout-init-");
    const init = binary(["init", "hello"], dir);
    expect([init.status, init.stderr]).toEqual([0, ""]);
    const project = join(dir, "hello");
    expect(init.stdout).toBe(Object.keys(INIT_FILES).map((f) => `wrote ${join(project, f)}\n`).join(""));
    expect(readFileSync(join(project, "plan.yml"), "utf8")).toStartWith("# yaml-language-server: $schema=fanout.schema.json\n");

    const run = binary(["run", "plan.yml", "--json", "--quiet"], project);
    expect([run.status, run.stderr]).toEqual([0, ""]);
    const events = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const ends = events.filter((e) => e.type === "task_end").map((e) => [e.id, e.status]).sort();
    expect(ends).toEqual([["done[localhost]", "ok"], ["greet[localhost][fanout]", "ok"], ["greet[localhost][world]", "ok"]]);

    const validate = new Ajv().compile(JSON.parse(readFileSync(join(project, "fanout.schema.json"), "utf8")));
    expect(validate(parse(readFileSync(join(project, "plan.yml"), "utf8")))).toBe(true);

    // With nothing installed beside the plugin: fanout.d.ts holds every type it needs.
    expect(denoCheck(project)).toEqual({ status: 0, errors: [] });
    expect(existsSync(join(project, "node_modules"))).toBe(false);
    expect(tsc(project)).toEqual({ status: 0, errors: [] });
    // And it does check: a misspelt hint is an error.
    const plugin = join(project, "plugins/hello.ts");
    writeFileSync(plugin, readFileSync(plugin, "utf8").replace(`"fully_parallel"`, `"fully_paralel"`));
    expect(tsc(project).errors.some((l) => l.startsWith("plugins/hello.ts(") && l.includes("fully_paralel"))).toBe(true);
    expect(denoCheck(project).errors.some((l) => l.includes("fully_paralel"))).toBe(true);
  }, 600_000);

  test("refuses to overwrite: exit 2 naming the files there, and writes nothing", () => {
    const dir = tempDir("fanout-init-");
    writeFileSync(join(dir, "plan.yml"), "mine\n");
    writeFileSync(join(dir, "package.json"), "{}\n");
    const [bin, ...rest] = fanoutArgv("bun");
    const r = spawnSync(bin!, [...rest, "init"], { cwd: dir, encoding: "utf8" });
    expect([r.status, r.stdout]).toEqual([2, ""]);
    expect(r.stderr).toContain("error: not overwriting what is there: plan.yml, package.json");
    expect(readdirSync(dir).sort()).toEqual(["package.json", "plan.yml"]);
    expect(readFileSync(join(dir, "plan.yml"), "utf8")).toBe("mine\n");
    expect(existsSync(join(dir, "plugins"))).toBe(false);
  }, 60_000);
});
