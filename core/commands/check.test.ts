/**
 * `fanout check plugin.ts`: shows what a run would see in a plugin — its
 * description, hint, resources and input schema as JSON Schema — and fails
 * to load a broken plugin with the very message `fanout run` gives.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fanoutArgv } from "../runtime/fanout_runtimes.ts";
import { PLUGIN_FIXTURES } from "../runtime/plugin_fixtures.ts";
import { writeFiles } from "../test_helpers.ts";

function fanout(args: string[], cwd?: string) {
  const [bin, ...rest] = fanoutArgv("bun");
  return spawnSync(bin!, [...rest, ...args], { cwd, encoding: "utf8" });
}

describe("fanout check", () => {
  test("--json: name, description, hint with its defaults, resources in bytes, input as JSON Schema", () => {
    const r = fanout(["check", join(PLUGIN_FIXTURES, "described.ts"), "--json"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      name: "described",
      source: join(PLUGIN_FIXTURES, "described.ts"),
      description: "Copies a file to a host, one copy per host at a time",
      hint: { kind: "host_exclusive", limit: 2 },
      resources: { io: 1, mem: 64 * 1024 * 1024 },
    });
    expect(report.input).toMatchObject({
      type: "object",
      properties: { src: { type: "string", description: "The file to copy" }, mode: { enum: ["0644", "0755"], default: "0644" } },
      required: ["src"],
      additionalProperties: false,
    });
  }, 60_000);

  test("for people: one fact a line, the input schema indented", () => {
    const r = fanout(["check", join(PLUGIN_FIXTURES, "described.ts")]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("description: Copies a file to a host, one copy per host at a time\n");
    expect(r.stdout).toContain(`hint:        {"kind":"host_exclusive","limit":2}\n`);
    expect(r.stdout).toContain(`input:\n  {\n    "type": "object",`);
  }, 60_000);

  test.each(["bad_hint.ts", "no_run.ts", "throws_at_import.ts", "missing.ts"])("%s: exit 2 with the message a run gives", (file) => {
    const plugin = join(PLUGIN_FIXTURES, file);
    const dir = writeFiles({ "plan.yml": `version: 1\nplugins: { p: ${JSON.stringify(plugin)} }\ntasks:\n  - { name: a, module: p }\n` });
    const run = fanout(["run", "plan.yml"], dir);
    const check = fanout(["check", plugin]);
    expect(run.status).toBe(2);
    expect([check.status, check.stdout, check.stderr]).toEqual([2, "", run.stderr]);
  }, 60_000);
});
