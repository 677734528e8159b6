/**
 * What a person sees of the commands' own output, from the bytes of real
 * runs of the command line: the end of a failed instance's stderr under its
 * line, `--output tag` and `--output grouped`.
 */
import { describe, expect, test } from "bun:test";
import { CHECK_STDERR, runReportPlan } from "./report_fixture.ts";

/** What each instance of REPORT_PLAN writes on stdout (flaky's last attempt: its first one failed). */
function expectedStdout(id: string): string[] {
  const m = /^(\w+)\[(h\d)\](?:\[(\w)\])?$/.exec(id)!;
  const [, task, host, item] = m;
  if (task === "build") return [`built ${host} ${item}`];
  if (task === "flaky") return ["recovered"];
  if (task === "check") return host === "h2" ? [] : ["fine"];
  return host === "h2" ? [] : ["deployed"];
}

const IDS = ["h1", "h2", "h3"].flatMap((h) => [`build[${h}][a]`, `build[${h}][b]`, `flaky[${h}]`, `check[${h}]`, `deploy[${h}]`]);

/** Three instances at once, each writing a line, sleeping, writing another. */
const SLOW_LINES = `version: 1
name: lines
hosts: [a, b, c]
tasks:
  - name: say
    module: shell
    with: { cmd: "echo {{ host }}-1; echo {{ host }}-err >&2; sleep 0.3; echo {{ host }}-2", shell: true }
`;

describe("instance output for people", () => {
  test("a failed instance shows the last 5 lines of its stderr under its line, control characters made visible", () => {
    const r = runReportPlan([]);
    expect([r.code, r.stdout]).toEqual([1, ""]);
    const shown = CHECK_STDERR.replace(/[\x01\x1b]/g, "\uFFFD").trimEnd().split("\n").slice(-5);
    const lines = r.stderr.split("\n");
    const at = lines.findIndex((l) => l.startsWith("failed    check[h2] "));
    expect(lines[at]).toMatch(/^failed    check\[h2\] \d+ms: \/bin\/sh: exit code 3: l6 <&> "q" \]\]> \uFFFD\uFFFD\[31m$/);
    expect(lines.slice(at + 1, at + 7)).toEqual(["          stderr (last 5 of 6 lines):", ...shown.map((l) => `          | ${l}`)]);
    expect(lines[at + 7]).not.toStartWith("          ");
    // Not a terminal: no escape sequence at all, neither fanout's colours nor the command's.
    expect(r.stderr).not.toContain("\x1b");
    // Retried attempts that then succeeded show no tail: only failures do.
    expect(r.stderr).not.toContain("first try fails\n          |");
  });

  test("--output tag: every line of an instance's stdout on stdout, of its stderr on stderr, after its id and a tab", () => {
    const r = runReportPlan(["--output", "tag", "-q"]);
    expect(r.code).toBe(1);
    const out = r.stdout.split("\n");
    expect(out.pop()).toBe("");
    for (const line of out) expect(line).toMatch(/^[^\t]+\t/);
    const got = (id: string) => out.filter((l) => l.startsWith(`${id}\t`)).map((l) => l.slice(id.length + 1));
    for (const id of IDS) expect(got(id)).toEqual(expectedStdout(id));
    expect(out.length).toBe(IDS.flatMap(expectedStdout).length);
    // The command's stderr, byte for byte (control characters too: it is the command's own output), each line tagged.
    expect(r.stderr).toBe(CHECK_STDERR.slice(0, -1).split("\n").map((l) => `check[h2]\t${l}\n`).join(""));
  });

  test("--output tag with human progress: no stderr tail (the whole stderr is shown already)", () => {
    const r = runReportPlan(["--output", "tag"]);
    expect(r.stderr).toContain("check[h2]\tl1\n");
    expect(r.stderr).not.toContain("stderr (last");
  });

  test("--output grouped: each instance's output in one block, never interleaved with another's", () => {
    const r = runReportPlan(["--output", "grouped", "-q", "-p", "3"], SLOW_LINES);
    expect(r.code).toBe(0);
    const out = r.stdout.split("\n");
    expect(out.pop()).toBe("");
    expect(out.sort()).toEqual(["a-1", "a-2", "b-1", "b-2", "c-1", "c-2"]);
    const lines = r.stdout.split("\n");
    for (const h of ["a", "b", "c"]) expect(lines.indexOf(`${h}-2`)).toBe(lines.indexOf(`${h}-1`) + 1);
    expect(r.stderr.split("\n").sort()).toEqual(["", "a-err", "b-err", "c-err"]);
  });

  test("--output with --json is a usage error: stdout carries only NDJSON", () => {
    const r = runReportPlan(["--output", "tag", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).type)).toEqual(["error"]);
    expect(r.stderr).toContain("error: --output tag cannot be combined with --json");
    const bad = runReportPlan(["--output", "lines"]);
    expect([bad.code, bad.stderr]).toEqual([2, `error: --output: expected one of default, tag, grouped, got "lines"\nRun "fanout help run" for usage.\n`]);
  });
});
