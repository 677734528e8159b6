/**
 * Every command's help, as `fanout help <command>` prints it: read from the
 * real CLI's overview, so a command added to cli.ts is checked too.
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

function fanout(args: string[]) {
  const r = spawnSync(process.execPath, ["--no-install", join(ROOT, "cli.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The command names listed under "Commands:" in `fanout help`. */
function commandNames(): string[] {
  const overview = fanout(["help"]).stdout;
  const section = overview.split("Commands:\n")[1]?.split("\n\n")[0] ?? "";
  return section.split("\n").map((line) => line.trim().split(" ")[0]!).filter(Boolean);
}

test("help › every command's help ends with at least one example; no option claims a default it does not have", () => {
  const names = commandNames();
  expect(names).toContain("run");
  expect(names).toContain("help");
  for (const name of names) {
    const help = fanout(["help", name]);
    expect([name, help.code]).toEqual([name, 0]);
    const examples = help.stdout.split("\n\nExamples:\n")[1];
    expect([name, examples === undefined]).toEqual([name, false]);
    // Each example line is a command to type, and the examples close the text.
    expect([name, examples!.trimEnd().split("\n").every((l) => l.startsWith("  ") && l.includes("fanout "))]).toEqual([name, true]);
    // cac gives a --no-x flag a default of true; the help must not show it.
    expect([name, help.stdout.includes("(default: true)")]).toEqual([name, false]);
  }
  expect(fanout(["help", "run"]).stdout).toMatch(/\n  --no-color +No colours in human output\n/);
});
