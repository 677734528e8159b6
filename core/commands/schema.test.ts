/**
 * `fanout schema`: the JSON Schema it prints, checked with a real validator
 * (ajv), is never stricter than fanout — every plan fanout accepts validates —
 * and still refuses the broken plans an editor should flag.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { PlanErrors } from "../errors.ts";
import { loadPlan } from "../plan/load.ts";
import { fanoutArgv } from "../runtime/fanout_runtimes.ts";
import { ROOT } from "../runtime/plugin_fixtures.ts";
import { writeFiles } from "../test_helpers.ts";
import { schemaText } from "./schema.ts";

const schema = JSON.parse(schemaText());
const validate = new Ajv({ allErrors: true }).compile(schema);

/** ajv's verdict on plan text, with its errors when it refuses. */
function check(yaml: string): { valid: boolean; errors: string[] } {
  const valid = validate(parse(yaml)) as boolean;
  return { valid, errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`) };
}

/** fanout's verdict on the same text, loaded as `fanout run` would: its errors, none if it accepts. */
async function fanoutErrors(yaml: string, files: Record<string, string> = {}): Promise<string[]> {
  const dir = writeFiles({ "plan.yml": yaml, ...files });
  try {
    await loadPlan(join(dir, "plan.yml"));
    return [];
  } catch (e) {
    if (e instanceof PlanErrors) return e.errors.map((x) => x.message);
    throw e;
  }
}

/** The YAML blocks of README.md and docs/*.md that are whole plans (they start with version: 1). */
function documentedPlans(): [string, string][] {
  const files = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
  return files.flatMap((f) =>
    [...readFileSync(join(ROOT, f), "utf8").matchAll(/```ya?ml\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .filter((yaml) => /^(#.*\n)*version: 1\b/.test(yaml))
      .map((yaml, i): [string, string] => [`${f} #${i + 1}`, yaml])
  );
}

function planFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
}

/** Plans fanout accepts that use every part of the format. */
const ACCEPTED: Record<string, string> = {
  everything: `
version: 1
name: all.of-it_1
hosts: [h1, h2]
parallelism: 4
vars: { pkg: nginx, list: [1, 2], deep: { a: 1 } }
resources: { cpu_tokens: 2, io_tokens: 3, storage_type: ssd, mem_free: 1GiB, mem_budget: 1073741824 }
max_fail_percentage: 50
tasks:
  - name: first
    module: debug
    with: { message: "{{ vars.pkg }} on {{ host }}" }
    hosts: [h1]
    items: [a, { name: b }, 3]
    hint: { kind: host_exclusive, key: "{{ host }}", limit: 2 }
    resources: { cpu: 1, io: 0, mem: 512MiB, io_pattern: random }
    timeout: 1.5s
    retries: 2
    retry_delay: 0ms
    kill_grace: 1s
    max_fail_percentage: 0
  - name: second
    module: sleep
    with: { duration: 1ms }
    needs: [first]
    hint: global_exclusive
    resources: { mem: 1024 }
  - name: third
    race:
      - { module: sleep, with: { duration: 1ms }, hint: { kind: rate_limited, per_second: 0.5, burst: 3 } }
      - { module: debug, with: { message: m }, resources: { cpu: 1 }, hint: { kind: global_exclusive, group: g } }
  - name: grp
    limit: 2
    needs: [second]
    parallel:
      - { name: p1, module: sleep, with: { duration: 1ms }, hint: fully_parallel }
      - name: inner
        parallel:
          - { name: p2, module: debug, with: { message: m }, hint: { kind: fully_parallel } }
  - name: files
    module: debug
    with: { message: "{{ item }}" }
    items_from: { glob: "*.txt", required: true }
  - name: lines
    module: debug
    with: { message: "{{ item }}" }
    items_from: { file: list.txt }
    hint: host_exclusive
`,
  minimal: "version: 1\ntasks:\n  - { name: a, module: sleep, with: { duration: 1ms } }\n",
  "parallelism auto, an empty with": "version: 1\nparallelism: auto\ntasks:\n  - name: a\n    module: debug\n    with: { message: m }\n",
};

/** Broken plans, each with what is wrong; fanout refuses each, and so must the schema. */
const REFUSED: Record<string, string> = {
  "an unknown top-level key": "version: 1\nparalelism: 2\ntasks:\n  - { name: a, module: debug }\n",
  "an unknown task key": "version: 1\ntasks:\n  - { name: a, module: debug, retires: 2 }\n",
  "a wrong type": "version: 1\ntasks:\n  - { name: a, module: debug, retries: two }\n",
  "a list where a mapping goes": "version: 1\nvars: [a, b]\ntasks:\n  - { name: a, module: debug }\n",
  "no tasks": "version: 1\nname: x\n",
  "an empty task list": "version: 1\ntasks: []\n",
  "a wrong version": "version: 2\ntasks:\n  - { name: a, module: debug }\n",
  "a misspelt hint": "version: 1\ntasks:\n  - { name: a, module: debug, hint: host_exclusiv }\n",
  "a hint of an unknown kind": "version: 1\ntasks:\n  - { name: a, module: debug, hint: { kind: rate_limitd, per_second: 1 } }\n",
  "rate_limited without per_second": "version: 1\ntasks:\n  - { name: a, module: debug, hint: { kind: rate_limited } }\n",
  "a task without module or race": "version: 1\ntasks:\n  - { name: a }\n",
  "both module and race": "version: 1\ntasks:\n  - name: a\n    module: debug\n    race: [{ module: debug }, { module: sleep }]\n",
  "a bad name": "version: 1\ntasks:\n  - { name: a b, module: debug }\n",
  "a group with an unknown key": "version: 1\ntasks:\n  - name: g\n    limt: 2\n    parallel: [{ name: a, module: debug }]\n",
  "a broken task inside a group": "version: 1\ntasks:\n  - name: g\n    parallel: [{ name: a, module: debug, retries: -1 }]\n",
  "parallelism 0": "version: 1\nparallelism: 0\ntasks:\n  - { name: a, module: debug }\n",
};

describe("fanout schema", () => {
  test("is draft-07 JSON with a description on the plan's and the task's fields", () => {
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.required).toEqual(["version", "tasks"]);
    expect(schema.properties.parallelism.description).toContain("fork limit");
    for (const [key, field] of Object.entries(schema.$defs.task.properties as Record<string, { description?: string }>)) {
      expect([key, typeof field.description]).toEqual([key, "string"]);
    }
  });

  test.each([...planFiles("examples"), ...planFiles("fixtures")])("%s validates", (file) => {
    expect(check(readFileSync(join(ROOT, file), "utf8"))).toEqual({ valid: true, errors: [] });
  });

  test("every whole plan in README.md and docs/ validates", () => {
    const plans = documentedPlans();
    expect(plans.length).toBeGreaterThanOrEqual(4);
    for (const [where, yaml] of plans) expect([where, check(yaml)]).toEqual([where, { valid: true, errors: [] }]);
  });

  test.each(Object.keys(ACCEPTED))("never stricter than fanout: %s", async (name) => {
    const yaml = ACCEPTED[name]!;
    expect(await fanoutErrors(yaml, { "x.txt": "", "list.txt": "a\nb\n" })).toEqual([]);
    expect(check(yaml)).toEqual({ valid: true, errors: [] });
  });

  test.each(Object.keys(REFUSED))("refuses %s, as fanout does", async (name) => {
    const yaml = REFUSED[name]!;
    expect(await fanoutErrors(yaml)).not.toEqual([]);
    expect(check(yaml).valid).toBe(false);
  });

  test("the compiled binary prints the same schema", () => {
    const [bin, ...args] = fanoutArgv("binary");
    const r = spawnSync(bin!, [...args, "schema"], { encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toBe(schemaText());
  }, 300_000);
});
