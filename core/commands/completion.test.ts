/**
 * `fanout completion bash` as bash runs it: the script from the real CLI is
 * sourced by a real bash and its function asked what completes each line.
 */
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../test_helpers.ts";

const ROOT = resolve(import.meta.dir, "../..");
const dir = tempDir("fanout-completion-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fanout(args: string[]) {
  const r = spawnSync(process.execPath, ["--no-install", join(ROOT, "cli.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What bash offers for `words` (the last one being completed), one per line. */
function complete(script: string, words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const r = spawnSync("bash", ["--norc", "-c", `source "$0"; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _fanout; printf '%s\\n' "\${COMPREPLY[@]}"`, script], { encoding: "utf8" });
  expect([r.status, r.stderr]).toEqual([0, ""]);
  return r.stdout.split("\n").filter(Boolean);
}

test("fanout completion bash › completes commands, each command's own flags, help's and completion's arguments; leaves paths to bash", () => {
  const r = fanout(["completion", "bash"]);
  expect([r.code, r.stderr]).toEqual([0, ""]);
  const script = join(dir, "fanout.bash");
  writeFileSync(script, r.stdout);
  const registered = spawnSync("bash", ["--norc", "-c", `source "$0"; complete -p fanout`, script], { encoding: "utf8" });
  expect(registered.stdout).toBe("complete -o default -F _fanout fanout\n");

  const commands = fanout(["help"]).stdout.split("Commands:\n")[1]!.split("\n\n")[0]!.split("\n").map((l) => l.trim().split(" ")[0]!);
  expect(complete(script, ["fanout", ""])).toEqual([...commands, "-v", "--version", "-h", "--help"]);
  expect(complete(script, ["fanout", "ru"])).toEqual(["run"]);
  expect(complete(script, ["fanout", "run", "plan.yml", "--fa"])).toEqual(["--fail-fast"]);
  expect(complete(script, ["fanout", "run", "--no-"])).toEqual(["--no-color", "--no-journal", "--no-local"]);
  expect(complete(script, ["fanout", "probe", "--f"])).toEqual(["--forget"]);
  expect(complete(script, ["fanout", "probe", "--fail"])).toEqual([]);
  expect(complete(script, ["fanout", "help", "pr"])).toEqual(["probe"]);
  expect(complete(script, ["fanout", "completion", ""])).toEqual(["bash"]);
  expect(complete(script, ["fanout", "run", "pla"])).toEqual([]);
  // Every flag `fanout help run` lists completes.
  const runFlags = fanout(["help", "run"]).stdout.match(/--[a-z-]+/g)!;
  expect(complete(script, ["fanout", "run", "--"]).sort()).toEqual([...new Set(runFlags)].sort());
});

test("fanout completion <other shell> › exit 2 naming the shells offered", () => {
  const r = fanout(["completion", "fish"]);
  expect([r.code, r.stdout]).toEqual([2, ""]);
  expect(r.stderr).toStartWith(`error: completion: no script for shell "fish"; expected one of: bash`);
});
