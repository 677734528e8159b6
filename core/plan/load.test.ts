/** Plan loading: every error names file:line:col and what was expected; nothing half-loaded. */
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { PluginError } from "../errors.ts";
import { planErrors as errorsOf, writeFiles } from "../test_helpers.ts";
import { loadPlan } from "./load.ts";

const FIXTURES = resolve(import.meta.dir, "../../fixtures/plugins");

describe("loadPlan › schema errors point at the value", () => {
  test("unknown module, with a suggestion", async () => {
    expect(await errorsOf(`version: 1
tasks:
  - name: a
    module: sheel
`)).toEqual([expect.stringMatching(/^plan\.yml:4:13: tasks\[0\]\.module: unknown module "sheel" \(did you mean "shell"\?\); expected a built-in \(.*\bshell\b.*\) or a name from plugins:$/)]);
  });

  test("unknown keys are errors, at the key, with the allowed keys", async () => {
    const [message] = await errorsOf(`version: 1
tasks:
  - name: a
    module: debug
    with: { message: hi }
    retires: 2
`);
    expect(message).toStartWith(`plan.yml:6:5: tasks[0].retires: unknown key "retires" (did you mean "retries"?); expected one of: name, module,`);
  });

  test("several problems are reported together, in file order", async () => {
    const errors = await errorsOf(`version: 1
parallelism: 0
tasks:
  - name: a
    module: sleep
    with: { duration: 1ms }
    timeout: 30
    hint: host_exclusiv
`);
    expect(errors).toEqual([
      "plan.yml:2:14: parallelism: expected parallelism as auto or a whole number >= 1, got 0",
      "plan.yml:7:14: tasks[0].timeout: expected timeout as a duration like 500ms, 30s or 2m, got 30",
      expect.stringMatching(/^plan\.yml:8:11: tasks\[0\]\.hint: expected a hint: .* got "host_exclusiv" \(did you mean "host_exclusive"\?\)$/),
    ]);
  });

  test("a rate_limited hint without per_second says so", async () => {
    expect(await errorsOf(`version: 1
tasks:
  - { name: a, module: debug, with: { message: x }, hint: { kind: rate_limited } }
`)).toEqual([`plan.yml:3:59: tasks[0].hint.per_second: missing required key "per_second"`]);
  });

  test("YAML syntax errors carry the position", async () => {
    const [message] = await errorsOf("version: 1\ntasks:\n  - name: [unclosed\n");
    expect(message).toMatch(/^plan\.yml:\d+:\d+: invalid YAML: /);
  });

  test("a missing file is an error that names it", async () => {
    await expect(loadPlan("/nonexistent/plan.yml")).rejects.toThrow("/nonexistent/plan.yml: plan file not found");
  });
});

describe("loadPlan › hostile YAML is a plan error, not a crash", () => {
  test("an alias with no anchor before it names the alias", async () => {
    expect(await errorsOf("version: 1\nvars: { a: *nope }\ntasks: []\n")).toEqual([
      "plan.yml:2:12: invalid YAML: alias *nope names no anchor (&nope) set before it",
    ]);
    // An anchor set after the alias does not count (YAML resolves an alias to the anchor before it).
    expect(await errorsOf("version: 1\nvars: { a: *x, b: &x 1 }\ntasks: []\n")).toEqual([
      "plan.yml:2:12: invalid YAML: alias *x names no anchor (&x) set before it",
    ]);
  });

  test("aliases that expand exponentially (billion laughs) are refused at the first alias", async () => {
    let bomb = "version: 1\nvars:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (let i = 1; i <= 9; i++) bomb += `  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(", ")}]\n`;
    expect(await errorsOf(`${bomb}tasks: []\n`)).toEqual([
      "plan.yml:4:12: invalid YAML: its aliases expand to more than 100 copies of their anchors; write the values out instead",
    ]);
  });

  test("lists and mappings nested more than 100 deep are refused where they pass the limit, and quickly, aliases or not", async () => {
    const deep = (depth: number) => `version: 1\nvars: { x: &x 1 }\ntasks:\n  - name: a\n    module: debug\n    with: { message: ${"[".repeat(depth)}*x${"]".repeat(depth)} }\n`;
    // Before the limit, the yaml library took minutes to resolve one alias inside a few thousand levels.
    expect(await errorsOf(deep(3000))).toEqual(["plan.yml:6:119: invalid YAML: lists and mappings nested more than 100 deep"]);
    const plan = await loadPlan(join(writeFiles({ "plan.yml": deep(50) }), "plan.yml"));
    expect(plan.tasks[0]!.input).toBeDefined();
  });

  test("a file of YAML syntax errors reports the first 20 and how many more", async () => {
    const errors = await errorsOf(`version: 1\nname: ${"{{ x }}".repeat(200)}\ntasks: []\n`);
    expect(errors).toHaveLength(21);
    expect(errors[0]).toMatch(/^plan\.yml:2:\d+: invalid YAML: /);
    expect(errors[20]).toMatch(/^… and \d+ more problems$/);
  });
});

describe("loadPlan › cross-checks", () => {
  test("a cycle in needs is reported with its members", async () => {
    const errors = await errorsOf(`version: 1
tasks:
  - { name: a, needs: [c], module: debug, with: { message: x } }
  - { name: b, needs: [a], module: debug, with: { message: x } }
  - { name: c, needs: [b], module: debug, with: { message: x } }
`);
    expect(errors).toEqual(["plan.yml:3:23: tasks[0].needs: cycle in needs: a -> c -> b -> a"]);
  });

  test("needs, hosts and task names must exist and be unique", async () => {
    const errors = await errorsOf(`version: 1
hosts: [web1, web2]
tasks:
  - { name: a, module: debug, hosts: [web3], with: { message: x } }
  - { name: a, module: debug, needs: [b], with: { message: x } }
`);
    expect(errors).toEqual([
      `plan.yml:4:39: tasks[0].hosts[0]: unknown host "web3" (did you mean "web1"?); expected one of the plan's hosts: web1, web2`,
      `plan.yml:5:13: tasks[1].name: duplicate task name "a" (first used by tasks[0])`,
      `plan.yml:5:39: tasks[1].needs[0]: unknown task "b" (did you mean "a"?); expected one of: a`,
    ]);
  });

  test("templates may only name host, item, task and defined vars; item needs items", async () => {
    const errors = await errorsOf(`version: 1
vars: { pkg: nginx }
tasks:
  - name: a
    module: debug
    with: { message: "{{ vars.pkgs }} {{ item }} {{ hostname }} {{ vars.pkg | upper }}" }
`);
    expect(errors).toEqual([
      `plan.yml:6:22: tasks[0].with.message: template {{ vars.pkg | upper }} is not a plain reference; expected {{ host }}, {{ item }}, {{ item.field }}, {{ vars.name }}, {{ secrets.name }} or {{ task }}, optionally with | raw`,
    ]);
    const more = await errorsOf(`version: 1
vars: { pkg: nginx }
tasks:
  - { name: a, module: debug, with: { message: "{{ vars.pkgs }} {{ item }} {{ hostname }}" } }
`);
    expect(more).toEqual([
      `plan.yml:4:48: tasks[0].with.message: {{ vars.pkgs }}: no variable "pkgs" (did you mean "pkg"?); defined: pkg`,
      `plan.yml:4:48: tasks[0].with.message: {{ item }}: task "a" has no items (add items: or items_from:)`,
      `plan.yml:4:48: tasks[0].with.message: unknown template root "hostname" in {{ hostname }}; expected host, item, vars, secrets or task`,
    ]);
  });

  test("a module's inputs are checked at load, except values still to be templated", async () => {
    const errors = await errorsOf(`version: 1
tasks:
  - { name: a, module: sleep, with: { duration: soon } }
  - { name: b, module: sleep, with: { duration: "{{ item }}" }, items: [1ms] }
  - { name: c, module: shell, with: { cmd: "ls" } }
`);
    expect(errors).toEqual([
      "plan.yml:3:49: tasks[0].with.duration: expected duration like 50ms or 2s, got \"soon\" (module sleep)",
      `plan.yml:5:37: tasks[2].with: cmd runs through /bin/sh: add shell: true, or give argv instead (module shell)`,
    ]);
  });
});

describe("loadPlan › plugins", () => {
  test("a plugin with a bad hint is a PluginError naming the file", async () => {
    const dir = writeFiles({ "plan.yml": `version: 1\nplugins: { x: ${join(FIXTURES, "bad_hint.ts")} }\ntasks:\n  - { name: a, module: x }\n` });
    const error = await loadPlan(join(dir, "plan.yml")).catch((e) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect(error.message).toStartWith(`${join(FIXTURES, "bad_hint.ts")}: invalid module exports: parallelizationHint:`);
  });

  test("a plugin without run is a PluginError", async () => {
    const dir = writeFiles({ "plan.yml": `version: 1\nplugins: { x: ${join(FIXTURES, "no_run.ts")} }\ntasks:\n  - { name: a, module: x }\n` });
    const error = await loadPlan(join(dir, "plan.yml")).catch((e) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect(error.message).toContain("expected a run function");
  });

  test("a plugin whose input schema throws is a PluginError naming the file", async () => {
    const dir = writeFiles({ "plan.yml": `version: 1\nplugins: { x: ${join(FIXTURES, "schema_throws.ts")} }\ntasks:\n  - { name: a, module: x, with: { k: 1 } }\n` });
    const error = await loadPlan(join(dir, "plan.yml")).catch((e) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect(error.message).toBe(`${join(FIXTURES, "schema_throws.ts")}: its input schema threw while checking tasks[0].with: check exploded`);
  });

  test("a plugin whose exports throw when read is a PluginError", async () => {
    const dir = writeFiles({ "plan.yml": `version: 1\nplugins: { x: ${join(FIXTURES, "getter_throws.ts")} }\ntasks:\n  - { name: a, module: x }\n` });
    const error = await loadPlan(join(dir, "plan.yml")).catch((e) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect(error.message).toBe(`${join(FIXTURES, "getter_throws.ts")}: its exports could not be read: getter exploded`);
  });

  test("plugin paths are relative to the plan file", async () => {
    const dir = writeFiles({
      "plan.yml": "version: 1\nplugins: { mine: ./mine.ts }\ntasks:\n  - { name: a, module: mine }\n",
      "mine.ts": "export const parallelizationHint = { kind: 'rate_limited', per_second: 3 };\nexport default () => ({ changed: true });\n",
    });
    const plan = await loadPlan(join(dir, "plan.yml"));
    expect(plan.tasks[0]!.module.source).toBe(join(dir, "mine.ts"));
    expect(plan.tasks[0]!.hint).toEqual({ kind: "rate_limited", per_second: 3, burst: 1 });
  });
});

describe("loadPlan › resolution", () => {
  test("defaults, hint override, resources merge, items from a file", async () => {
    const dir = writeFiles({
      "plan.yml": `version: 1
tasks:
  - name: a
    module: shell
    with: { argv: [echo, "{{ item }}"] }
    items_from: { file: list.txt }
    hint: global_exclusive
    resources: { cpu: 2 }
    timeout: 1.5s
`,
      "list.txt": "one\n\n# a comment\ntwo\n",
    });
    const plan = await loadPlan(join(dir, "plan.yml"), { vars: { extra: "x" } });
    const t = plan.tasks[0]!;
    expect(plan.name).toBe("plan");
    expect(plan.hosts).toEqual(["localhost"]);
    expect(plan.parallelism).toBe("auto");
    expect(plan.vars).toEqual({ extra: "x" });
    expect(t.items).toEqual(["one", "two"]);
    expect(t.hint).toEqual({ kind: "global_exclusive", group: "default" });
    expect(t.resources).toEqual({ cpu: 2 });
    expect([t.timeoutMs, t.retries, t.retryDelayMs]).toEqual([1500, 0, 200]);
  });
});

describe("loadPlan › warnings", () => {
  test("an items_from glob that matches nothing is a warning with its position, not an error", async () => {
    const dir = writeFiles({ "plan.yml": `version: 1\ntasks:\n  - name: sums\n    module: checksum\n    items_from: { glob: "data/*.csv" }\n    with: { path: "{{ item }}" }\n` });
    const plan = await loadPlan(join(dir, "plan.yml"));
    expect(plan.tasks[0]!.items).toEqual([]);
    expect(plan.warnings).toEqual([`${join(dir, "plan.yml")}:5:17: tasks[0].items_from: glob "data/*.csv" matched no files: task "sums" has no instances`]);
  });
});

describe("loadPlan › every problem in one pass", () => {
  test("schema, unknown keys, unknown modules, names, hosts, needs, templates and module inputs together, in file order", async () => {
    const errors = await errorsOf(`version: 1
hosts: [h1, h1]
colour: blue
tasks:
  - name: a
    module: sheel
    retires: 2
    timeout: 0ms
  - name: b
    module: debug
    with: { message: "{{ vars.nope }}" }
    needs: [zz]
  - name: c
    module: sleep
    with: { duration: soon }
  - just a string
`);
    expect(errors).toEqual([
      `plan.yml:2:13: hosts[1]: duplicate host "h1" (already hosts[0]); list each host once`,
      `plan.yml:3:1: colour: unknown key "colour"; expected one of: version, name, hosts, inventory, connection, ssh_options, parallelism, vars, plugins, secrets, resources, max_fail_percentage, coordinator, tasks`,
      expect.stringMatching(/^plan\.yml:6:13: tasks\[0\]\.module: unknown module "sheel" \(did you mean "shell"\?\)/),
      expect.stringMatching(/^plan\.yml:7:5: tasks\[0\]\.retires: unknown key "retires" \(did you mean "retries"\?\)/),
      `plan.yml:8:14: tasks[0].timeout: expected timeout > 0, like 500ms, 30s or 2m, got "0ms"`,
      `plan.yml:11:22: tasks[1].with.message: {{ vars.nope }}: no variable "nope"; defined: none`,
      `plan.yml:12:13: tasks[1].needs[0]: unknown task "zz"; expected one of: a, b, c`,
      `plan.yml:15:23: tasks[2].with.duration: expected duration like 50ms or 2s, got "soon" (module sleep)`,
      `plan.yml:16:5: tasks[3]: expected a task as a mapping with name and module, got "just a string"`,
    ]);
  });

  test("a malformed field hides nothing else of its task", async () => {
    const errors = await errorsOf(`version: 1
hosts: [h1]
tasks:
  - name: a
    module: debug
    with: [not, a, mapping]
    hosts: [h1, h2]
    needs: [a]
`);
    expect(errors).toEqual([
      `plan.yml:6:11: tasks[0].with: expected with as a mapping of inputs`,
      `plan.yml:7:17: tasks[0].hosts[1]: unknown host "h2" (did you mean "h1"?); expected one of the plan's hosts: h1`,
      `plan.yml:8:13: tasks[0].needs[0]: task "a" cannot need itself`,
    ]);
  });

  test("more than 20 problems: the first 20, then how many more", async () => {
    const tasks = Array.from({ length: 25 }, (_, i) => `  - { name: t${i}, module: nope }\n`).join("");
    const errors = await errorsOf(`version: 1\ntasks:\n${tasks}`);
    expect(errors).toHaveLength(21);
    expect(errors[0]).toStartWith(`plan.yml:3:25: tasks[0].module: unknown module "nope"`);
    expect(errors[19]).toStartWith(`plan.yml:22:26: tasks[19].module: unknown module "nope"`);
    expect(errors[20]).toBe("… and 5 more problems");
  });

  test("a plugin that cannot be loaded is one more line among plan errors, and a PluginError alone", async () => {
    const yaml = (extra: string) => `version: 1\nplugins: { x: ${join(FIXTURES, "no_run.ts")} }\ntasks:\n  - { name: a, module: x${extra} }\n`;
    expect(await errorsOf(yaml(", timeout: 0s"))).toEqual([
      `plan.yml:2:15: plugins.x: ${join(FIXTURES, "no_run.ts")}: invalid module exports: run: expected a run function: \`export default async function run(input, ctx) {…}\``,
      `plan.yml:4:36: tasks[0].timeout: expected timeout > 0, like 500ms, 30s or 2m, got "0s"`,
    ]);
    const dir = writeFiles({ "plan.yml": yaml("") });
    expect(await loadPlan(join(dir, "plan.yml")).catch((e) => e)).toBeInstanceOf(PluginError);
  });

  test("tasks that are not a list, or none at all", async () => {
    expect(await errorsOf(`version: 1\ntasks: {}\n`)).toEqual([`plan.yml:2:8: tasks: expected tasks as a list`]);
    expect(await errorsOf(`version: 1\ntasks: []\n`)).toEqual([`plan.yml:2:8: tasks: expected at least one task, got 0`]);
    expect(await errorsOf(`version: 2\n`)).toEqual([`plan.yml:1:1: tasks: missing required key "tasks"`, `plan.yml:1:10: version: expected version: 1, got 2`]);
  });
});

describe("loadPlan › durations", () => {
  const task = (extra: string) => `version: 1\ntasks:\n  - { name: a, module: debug, with: { message: x }, ${extra} }\n`;

  test("a timeout or kill_grace of zero or below is an error", async () => {
    for (const [extra, message] of [
      ["timeout: 0ms", `expected timeout > 0, like 500ms, 30s or 2m, got "0ms"`],
      ["timeout: 0s", `expected timeout > 0, like 500ms, 30s or 2m, got "0s"`],
      ["timeout: -1s", `expected timeout as a duration like 500ms, 30s or 2m, got "-1s"`],
      ["kill_grace: 0ms", `expected kill_grace > 0, like 500ms, 30s or 2m, got "0ms"`],
      ["kill_grace: -5s", `expected kill_grace as a duration like 500ms, 30s or 2m, got "-5s"`],
      ["retry_delay: -1ms", `expected retry_delay as a duration like 500ms, 30s or 2m, got "-1ms"`],
    ]) {
      const key = extra.split(":")[0];
      expect(await errorsOf(task(extra))).toEqual([`plan.yml:3:${53 + key!.length + 2}: tasks[0].${key}: ${message}`]);
    }
  });

  test("retry_delay: 0ms is valid (retry at once); kill_grace is kept in ms, absent as undefined", async () => {
    const dir = writeFiles({ "plan.yml": `version: 1\ntasks:\n  - { name: a, module: debug, with: { message: x }, retry_delay: 0ms, kill_grace: 1.5s }\n  - { name: b, module: debug, with: { message: x } }\n` });
    const plan = await loadPlan(join(dir, "plan.yml"));
    expect([plan.tasks[0]!.retryDelayMs, plan.tasks[0]!.killGraceMs, plan.tasks[1]!.killGraceMs]).toEqual([0, 1500, undefined]);
  });
});
