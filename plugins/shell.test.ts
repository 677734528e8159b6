/** The shell module: real processes, argv without a shell unless asked. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runPlan } from "../core/commands/run.ts";
import { loadPlan } from "../core/plan/load.ts";
import { MemorySink } from "../core/telemetry/ndjson.ts";
import { runPlanText, writeFiles } from "../core/test_helpers.ts";

describe("shell module", () => {
  test("argv runs without a shell: metacharacters are plain text", async () => {
    const log = await runPlanText(`version: 1\ntasks:\n  - { name: a, module: shell, with: { argv: [echo, "$HOME; rm -rf /tmp/x && echo pwned"] } }\n`);
    expect(log.ends[0]!.data.stdout).toBe("$HOME; rm -rf /tmp/x && echo pwned\n");
  });

  test("cmd with shell: true goes through /bin/sh", async () => {
    const log = await runPlanText(`version: 1\ntasks:\n  - { name: a, module: shell, with: { cmd: "echo one && echo two", shell: true } }\n`);
    expect(log.ends[0]!.data.stdout).toBe("one\ntwo\n");
  });

  test("cwd defaults to the plan's directory; env and stdin are passed", async () => {
    const log = await runPlanText(`version: 1
tasks:
  - { name: a, module: shell, with: { cmd: 'pwd; echo "$GREETING"; cat', shell: true, env: { GREETING: hi }, input: "from stdin" } }
`);
    const [pwd, greeting, stdin] = String(log.ends[0]!.data.stdout).split("\n");
    expect(pwd).toBe(log.dir);
    expect([greeting, stdin]).toEqual(["hi", "from stdin"]);
  });

  test("output goes through pipes when something reads it, and to /dev/null when nothing does (--quiet without --json); stdin is /dev/null", async () => {
    const kinds = async (sinks: MemorySink[]) => {
      const dir = writeFiles({
        "plan.yml": `version: 1
tasks:
  - { name: a, module: shell, with: { cmd: "exec 3> kinds; for fd in 0 1 2; do test -c /dev/fd/$fd && echo devnull >&3 || echo pipe >&3; done", shell: true } }
`,
      });
      expect(await runPlan(await loadPlan(join(dir, "plan.yml")), { sinks })).toBe(0);
      return readFileSync(join(dir, "kinds"), "utf8").split("\n").filter(Boolean);
    };
    // Bun's pipes are sockets, node's are pipes: "not /dev/null" is what they share.
    expect(await kinds([new MemorySink()])).toEqual(["devnull", "pipe", "pipe"]);
    expect(await kinds([])).toEqual(["devnull", "devnull", "devnull"]);
  });

  test("a non-zero exit fails with the code and the last stderr line", async () => {
    const log = await runPlanText(`version: 1\ntasks:\n  - { name: a, module: shell, with: { cmd: "echo oops >&2; exit 7", shell: true } }\n`);
    const end = log.ends[0]!;
    expect([end.status, end.error]).toEqual(["failed", "/bin/sh: exit code 7: oops"]);
    expect(end.data.exit_code).toBe(7);
  });

  test("a program that does not exist fails the instance, not the run", async () => {
    const log = await runPlanText(`version: 1\ntasks:\n  - { name: a, module: shell, with: { argv: [/nonexistent/program] } }\n  - { name: b, module: debug, with: { message: x }, needs: [] }\n`);
    // The two run side by side: which ends first is not part of the contract.
    expect(Object.fromEntries(log.ends.map((e) => [e.task, e.status]))).toEqual({ a: "failed", b: "ok" });
  });

  test("a templated argv list keeps its type", async () => {
    const log = await runPlanText(`version: 1\nvars: { cmd: [printf, "%s-%s", x, y] }\ntasks:\n  - { name: a, module: shell, with: { argv: "{{ vars.cmd }}" } }\n`);
    expect(log.ends[0]!.data.stdout).toBe("x-y");
  });
});

test("shell module › output: discard keeps the exit status and drops the output", async () => {
  const log = await runPlanText(`version: 1\ntasks:\n  - { name: a, module: shell, with: { cmd: "echo hidden; exit 4", shell: true, output: discard } }\n`);
  const end = log.ends[0]!;
  expect(end.data).toEqual({ exit_code: 4, signal: null });
  expect(end.error).toBe("/bin/sh: exit code 4");
});

test("shell module › numbers from templates are taken as text in argv and env", async () => {
  const log = await runPlanText(`version: 1\ntasks:\n  - { name: a, module: shell, items: [7], with: { argv: [sh, -c, 'echo "$1 $N"', sh, "{{ item }}"], env: { N: "{{ item }}" } } }\n`);
  expect(log.ends[0]!.data.stdout).toBe("7 7\n");
});

test("shell module › a relative cwd is relative to the plan's directory, not fanout's", async () => {
  const log = await runPlanText(`version: 1
tasks:
  - { name: a, module: shell, with: { argv: [pwd], cwd: sub } }
  - { name: b, module: shell, with: { argv: [pwd], cwd: /tmp } }
`, {}, { "sub/.keep": "" });
  expect(log.ends.map((e) => e.data.stdout)).toEqual([`${log.dir}/sub\n`, "/tmp\n"]);
});
