/**
 * checkOptions against cac's parse of real command lines: an option the
 * command declares passes (negations and aliases included); any other is a
 * UsageError spelt as typed, with the suggestion a user of make or
 * ansible needs.
 */
import { describe, expect, test } from "bun:test";
import { cac } from "../deps.ts";
import { checkOptions } from "./check_options.ts";
import { toCacArgv } from "./cli_argv.ts";
import { HELP_OPTION, TOP_OPTIONS } from "./help.ts";

function check(argv: string[]): string | undefined {
  const cli = cac("fanout");
  cli.command("run <plan>").option("-p, --parallelism <n>", "").option("--dry-run", "").option("--verbose", "").option("--var <kv>", "").option("--no-color", "");
  cli.command("types [dir]");
  for (const option of TOP_OPTIONS) cli.option(option.rawName, option.description);
  cli.parse(["node", "fanout", ...toCacArgv(argv)], { run: false });
  const command = cli.matchedCommand;
  try {
    if (command) checkOptions(cli.options, [...command.options, HELP_OPTION], argv, command.name);
    else checkOptions(cli.options, TOP_OPTIONS, argv);
    return undefined;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe("checkOptions", () => {
  test("declared options, their aliases, negations and --help pass", () => {
    for (const argv of [["run", "p.yml", "-p", "2", "--dry-run", "--no-color", "--var", "a=1", "-h"], ["run", "p.yml", "--parallelism=3"], ["--version"], ["-h"]]) {
      expect([argv, check(argv)]).toEqual([argv, undefined]);
    }
  });

  test("anything else is a UsageError naming the option as typed", () => {
    expect(check(["run", "p.yml", "--dry-rnu"])).toBe("UsageError: unknown option --dry-rnu (did you mean --dry-run?)");
    expect(check(["run", "p.yml", "--no-colr"])).toBe("UsageError: unknown option --no-colr (did you mean --no-color?)");
    expect(check(["run", "p.yml", "--fail_fast=1"])).toBe("UsageError: unknown option --fail_fast");
    expect(check(["run", "p.yml", "-x"])).toBe("UsageError: unknown option -x");
    expect(check(["run", "p.yml", "--", "--anything"])).toBeUndefined();
  });

  test("-v after a command is not the version: --verbose where the command has it, else a pointer to fanout --version", () => {
    expect(check(["run", "p.yml", "-v"])).toBe("UsageError: unknown option -v (did you mean --verbose?)");
    expect(check(["-v", "run", "p.yml"])).toBe("UsageError: unknown option -v (did you mean --verbose?)");
    expect(check(["types", "-v"])).toBe("UsageError: unknown option -v (fanout's version: fanout --version)");
    expect(check(["types", "--version"])).toBe("UsageError: unknown option --version (fanout's version: fanout --version)");
    expect(check(["run", "p.yml", "-j", "8"])).toBe("UsageError: unknown option -j (did you mean --parallelism?)");
  });

  test("before any command only --version and --help exist", () => {
    expect(check(["--versoin"])).toBe("UsageError: unknown option --versoin (did you mean --version?)");
    expect(check(["--verbose"])).toBe("UsageError: unknown option --verbose");
    expect(check(["--json"])).toBe("UsageError: unknown option --json");
  });
});
