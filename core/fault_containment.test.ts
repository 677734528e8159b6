/**
 * Module code that throws where no try/catch can reach it (a timer, a
 * rejection nobody awaits) must not take the run down: through the real
 * command line, since a test runner traps such errors itself.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { writeFiles } from "./test_helpers.ts";

const ROOT = resolve(import.meta.dir, "..");
const PLUGIN = join(ROOT, "fixtures/plugins/background_throw.ts");

function run(tasks: string) {
  const dir = writeFiles({ "plan.yml": `version: 1\nparallelism: 4\nplugins: { bg: ${PLUGIN} }\ntasks:\n${tasks}` });
  const r = spawnSync(process.execPath, ["--no-install", join(ROOT, "cli.ts"), "run", "plan.yml", "--json", "-q"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  const events: Record<string, any>[] = r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const ends: Record<string, Record<string, any>> = Object.fromEntries(events.filter((e) => e.type === "task_end").map((e) => [e.id, e]));
  return { code: r.status, events, ends };
}

describe("module code that throws where no one can catch it", () => {
  for (const how of ["timer", "rejection"] as const) {
    test(`a ${how} fault while the module runs fails its instance only; the run ends with run_end`, () => {
      const r = run(`  - { name: faulty, module: bg, with: { how: ${how} } }\n  - { name: fine, module: shell, needs: [], with: { argv: [sleep, "0.3"] } }\n`);
      expect(r.events[0]!.type).toBe("run_start");
      expect(r.events.at(-1)!.type).toBe("run_end");
      expect(r.ends["faulty[localhost]"]!.status).toBe("failed");
      expect(r.ends["faulty[localhost]"]!.error).toContain(how === "timer" ? "thrown from a timer" : "rejected in the background");
      expect(r.ends["fine[localhost]"]!.status).toBe("ok");
      expect(r.code).toBe(1);
    });
  }

  test("a fault after the module returned is a warning naming the plugin; the run's result stands", () => {
    const r = run(`  - { name: early, module: bg, with: { how: rejection, when: after } }\n  - { name: wait, module: sleep, with: { duration: 300ms } }\n`);
    expect(Object.values(r.ends).map((e) => e.status)).toEqual(["ok", "ok"]);
    const warning = r.events.find((e) => e.type === "log" && e.level === "warn");
    expect(warning?.message).toBe(`${PLUGIN}: unhandled rejection: rejected in the background`);
    expect(r.events.at(-1)!.type).toBe("run_end");
    expect(r.code).toBe(0);
  });

  test("a fault after the last instance ended is a warning on stderr; exit 0 stands", () => {
    const dir = writeFiles({ "plan.yml": `version: 1\nplugins: { bg: ${PLUGIN} }\ntasks:\n  - { name: late, module: bg, with: { how: rejection, when: after } }\n` });
    const r = spawnSync(process.execPath, ["--no-install", join(ROOT, "cli.ts"), "run", "plan.yml"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toContain("1 ok, 0 failed of 1");
    expect(r.stderr).toContain("warning: unhandled rejection outside any run: rejected in the background");
    expect(r.status).toBe(0);
  });
});
