/**
 * What a person sees of the commands' own output, from the bytes of real
 * runs of the command line: the end of a failed instance's stderr under its
 * line, `--output tag` and `--output grouped`.
 */
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFiles } from "../test_helpers.ts";
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

/** Each command writes a line, then waits (a minute at most) for a file named `go`, then writes another. */
const WAIT_FOR_GO = `version: 1
name: stream
hosts: [h1, h2]
tasks:
  - name: wait
    module: shell
    with: { cmd: "echo ready-{{ host }}; i=0; while [ ! -e go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; [ -e go ] || exit 1; echo after-{{ host }}", shell: true }
`;

/**
 * Four instances at once, each writing 200 lines to stdout and to stderr in
 * three writes per line, then a last line without a line break.
 */
const PIECES = `version: 1
name: pieces
hosts: [h1, h2, h3, h4]
tasks:
  - name: pieces
    module: shell
    with: { cmd: "i=0; while [ $i -lt 200 ]; do i=$((i+1)); printf '%s-' {{ host }}; printf '%s-o-' $i; printf 'end\\n'; printf '%s-' {{ host }} >&2; printf '%s-e-' $i >&2; printf 'end\\n' >&2; done; printf '%s-last-o' {{ host }}; printf '%s-last-e' {{ host }} >&2", shell: true }
`;

interface Started {
  /** Resolves with what fanout has written so far, once `ready(stdout)` holds; rejects if fanout ends first. */
  until(ready: (stdout: string) => boolean): Promise<{ stdout: string; stderr: string }>;
  ended: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `fanout ARGS` from source and lets the test watch its stdout while it runs. */
function startFanout(args: string[], cwd: string): Started {
  const child = spawn(process.execPath, ["--no-install", resolve(import.meta.dirname, "../../cli.ts"), ...args], { cwd, stdio: ["ignore", "pipe", "pipe"], timeout: 110_000 });
  let stdout = "";
  let stderr = "";
  const waiters: (() => void)[] = [];
  child.stdout.on("data", (c) => {
    stdout += c;
    for (const w of waiters) w();
  });
  child.stderr.on("data", (c) => (stderr += c));
  const ended = new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => child.once("close", (code) => done({ code, stdout, stderr })));
  return {
    ended,
    until: (ready) =>
      new Promise((done, fail) => {
        const check = () => ready(stdout) && done({ stdout, stderr });
        waiters.push(check);
        check();
        void ended.then((r) => fail(new Error(`fanout ended (exit ${r.code}) before its output showed what was awaited:\n${r.stdout}\n${r.stderr}`)));
      }),
  };
}

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

  test("--output tag: every line of an instance's stdout on stdout, of its stderr on stderr, after its id and a tab; every attempt's", () => {
    const r = runReportPlan(["--output", "tag", "-q"]);
    expect(r.code).toBe(1);
    const out = r.stdout.split("\n");
    expect(out.pop()).toBe("");
    for (const line of out) expect(line).toMatch(/^[^\t]+\t/);
    const got = (id: string) => out.filter((l) => l.startsWith(`${id}\t`)).map((l) => l.slice(id.length + 1));
    for (const id of IDS) expect(got(id)).toEqual(expectedStdout(id));
    expect(out.length).toBe(IDS.flatMap(expectedStdout).length);
    // The command's stderr, byte for byte (control characters too: it is the command's own output), each line tagged;
    // and the failed first attempt of each flaky instance, whose retry then succeeded.
    const err = r.stderr.split("\n");
    expect(err.pop()).toBe("");
    expect(err.filter((l) => l.startsWith("check[h2]\t")).map((l) => `${l}\n`).join("")).toBe(CHECK_STDERR.slice(0, -1).split("\n").map((l) => `check[h2]\t${l}\n`).join(""));
    expect(err.filter((l) => !l.startsWith("check[h2]\t")).sort()).toEqual(["h1", "h2", "h3"].map((h) => `flaky[${h}]\tfirst try fails`));
  });

  test("--output tag streams: a line is out before its command has ended", async () => {
    const dir = writeFiles({ "plan.yml": WAIT_FOR_GO });
    const run = startFanout(["run", join(dir, "plan.yml"), "--output", "tag", "-p", "2"], dir);
    // Each command has written its first line and now waits for `go`, which only this test makes.
    const seen = await run.until((out) => out.includes("wait[h1]\tready-h1\n") && out.includes("wait[h2]\tready-h2\n"));
    expect(seen.stdout).not.toContain("after");
    expect(seen.stderr).not.toMatch(/^ok /m);
    writeFileSync(join(dir, "go"), "");
    const r = await run.ended;
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").sort()).toEqual(["", "wait[h1]\tafter-h1", "wait[h1]\tready-h1", "wait[h2]\tafter-h2", "wait[h2]\tready-h2"]);
    expect(r.stderr).toMatch(/^ok +wait\[h1\] /m);
  }, 120_000);

  test("--output tag: lines of instances writing at once are never mixed, each in its order; a partial last line ends the output", () => {
    const r = runReportPlan(["--output", "tag", "-q", "-p", "4"], PIECES);
    expect(r.code).toBe(0);
    for (const [text, stream] of [[r.stdout, "o"], [r.stderr, "e"]] as const) {
      const lines = text.split("\n");
      expect(lines.pop()).toBe("");
      const byHost = new Map<string, string[]>();
      for (const line of lines) {
        const m = /^pieces\[(h\d)\]\t(.*)$/.exec(line);
        expect(m).not.toBeNull();
        byHost.set(m![1]!, [...(byHost.get(m![1]!) ?? []), m![2]!]);
      }
      expect([...byHost.keys()].sort()).toEqual(["h1", "h2", "h3", "h4"]);
      for (const [host, got] of byHost) {
        const want = Array.from({ length: 200 }, (_, i) => `${host}-${i + 1}-${stream}-end`);
        expect(got).toEqual([...want, `${host}-last-${stream}`]);
      }
    }
  }, 120_000);

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
