/**
 * toCacArgv/fromCacArgs through cac's real parser: what it gets wrong on its
 * own (a kebab-case flag swallowing the plan, a lone `-` vanishing) comes
 * out as typed.
 */
import { describe, expect, test } from "bun:test";
import { cac } from "../deps.ts";
import { fromCacArgs, toCacArgv } from "./cli_argv.ts";

function parse(argv: string[], prepare = true) {
  const cli = cac("fanout");
  cli.command("run <plan>").option("--dry-run", "").option("--json", "").option("--cpu-tokens <n>", "").option("--no-color", "");
  cli.parse(["node", "fanout", ...(prepare ? toCacArgv(argv) : argv)], { run: false });
  const { "--": rest, ...options } = cli.options;
  return { args: fromCacArgs(cli.args), options, rest };
}

describe("toCacArgv", () => {
  test("a kebab-case boolean before the plan stays a boolean (cac alone takes the plan as its value)", () => {
    expect(parse(["run", "--dry-run", "plan.yml"], false).args).toEqual([]);
    expect(parse(["run", "--dry-run", "plan.yml"])).toMatchObject({ args: ["plan.yml"], options: { dryRun: true } });
  });

  test("a lone - is an argument (cac alone drops it)", () => {
    expect(parse(["run", "-", "--json"], false).args).toEqual([]);
    expect(parse(["run", "-", "--json"])).toMatchObject({ args: ["-"], options: { json: true } });
    expect(parse(["run", "--dry-run", "-"])).toMatchObject({ args: ["-"], options: { dryRun: true } });
  });

  test("values, negations and everything after -- are kept", () => {
    expect(parse(["run", "p.yml", "--cpu-tokens=3", "--no-color"])).toMatchObject({ args: ["p.yml"], options: { cpuTokens: 3, color: false } });
    expect(parse(["run", "p.yml", "--", "--dry-run", "-"]).rest).toEqual(["--dry-run", "-"]);
  });
});
