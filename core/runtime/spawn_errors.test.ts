/**
 * A program that cannot be started says why, the same under Bun and Deno:
 * a missing program, a missing working directory, a file without execute
 * permission, a directory, a missing #! interpreter. Real runs of the shell
 * module, read from their task_end events.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runPlanText, runProcess, tempDir } from "../test_helpers.ts";
import { ROOT } from "./plugin_fixtures.ts";

/** A folder with one of each broken thing, a plan that tries each, and the error each must give. */
function brokenStarts() {
  const dir = tempDir("fanout-spawn-");
  writeFileSync(join(dir, "plain.sh"), "echo hi\n", { mode: 0o644 });
  writeFileSync(join(dir, "no_interpreter.sh"), "#!/nonexistent/fanout-shell\necho hi\n");
  chmodSync(join(dir, "no_interpreter.sh"), 0o755);
  mkdirSync(join(dir, "subdir"));
  writeFileSync(join(dir, "a_file"), "");
  const cases: Record<string, [string, string]> = {
    missing_program: [`argv: [fanout-no-such-program]`, "cannot start fanout-no-such-program: not found in PATH ("],
    missing_cwd: [`argv: [echo, hi], cwd: ${dir}/nope`, `cannot start echo: working directory ${dir}/nope does not exist`],
    cwd_is_a_file: [`argv: [echo, hi], cwd: ${dir}/a_file`, `cannot start echo: working directory ${dir}/a_file is not a directory`],
    not_executable: [`argv: [./plain.sh], cwd: ${dir}`, `cannot start ./plain.sh: ${dir}/plain.sh is not executable (no execute permission)`],
    missing_file: [`argv: [./nope.sh], cwd: ${dir}`, `cannot start ./nope.sh: no such file ${dir}/nope.sh`],
    a_directory: [`argv: [./subdir], cwd: ${dir}`, `cannot start ./subdir: ${dir}/subdir is a directory`],
    no_interpreter: [`argv: [./no_interpreter.sh], cwd: ${dir}`, "cannot start ./no_interpreter.sh: the interpreter in its #! line cannot run: no such file /nonexistent/fanout-shell"],
  };
  const tasks = Object.entries(cases).map(([name, [input]]) => `  - { name: ${name}, module: shell, needs: [], with: { ${input} } }`);
  const plan = `version: 1\ntasks:\n${tasks.join("\n")}\n`;
  return { dir, plan, cases };
}

function expectErrors(ends: { task: string; status: string; error: string | null }[], cases: Record<string, [string, string]>) {
  expect(ends.length).toBe(Object.keys(cases).length);
  for (const end of ends) {
    const expected = cases[end.task]![1];
    expect([end.task, end.status]).toEqual([end.task, "failed"]);
    if (end.task === "missing_program") expect(end.error).toStartWith(expected);
    else expect([end.task, end.error]).toEqual([end.task, expected]);
  }
}

describe("spawn errors say what failed", () => {
  test("under Bun (Bun.spawn)", async () => {
    const { plan, cases } = brokenStarts();
    const log = await runPlanText(plan);
    expect(log.exitCode).toBe(1);
    expectErrors(log.ends, cases);
  });

  test("under Deno (node:child_process), the same words", async () => {
    const { dir, plan, cases } = brokenStarts();
    writeFileSync(join(dir, "plan.yml"), plan);
    const r = await runProcess([join(ROOT, "node_modules/.bin/deno"), "run", "-A", join(ROOT, "cli.ts"), "run", join(dir, "plan.yml"), "--json", "-q"], { cwd: dir });
    expect(r.code).toBe(1);
    const ends = r.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.type === "task_end");
    expectErrors(ends, cases);
  }, 60_000);
});
