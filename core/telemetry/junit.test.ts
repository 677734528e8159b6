/**
 * --junit and --summary on real runs of the command line, read back with real
 * parsers: xmllint (libxml2) for the XML, JSON.parse for the summary.
 */
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFiles } from "../test_helpers.ts";
import type { FanoutEvent, RunEndEvent, TaskEndEvent } from "./events.ts";
import { CHECK_STDERR, runReportPlan } from "./report_fixture.ts";

/** Evaluates an XPath expression on a file with xmllint; its string value (xmllint ends it with a newline of its own). */
function xpath(file: string, expression: string): string {
  const r = spawnSync("xmllint", ["--xpath", expression, file], { encoding: "utf8" });
  if (r.error) throw new Error(`xmllint is needed for this test (Debian: libxml2-utils): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`xmllint --xpath ${expression}: ${r.stderr}`);
  if (!r.stdout.endsWith("\n")) throw new Error(`xmllint --xpath ${expression}: unexpected output ${JSON.stringify(r.stdout)}`);
  return r.stdout.slice(0, -1);
}

function events(stdout: string): FanoutEvent[] {
  return stdout.trim().split("\n").map((l) => JSON.parse(l));
}

/** What XML 1.0 cannot hold, as the report writes it. */
const asXml = (text: string) => text.replace(/[\x01\x1b]/g, "\uFFFD");

describe("--junit and --summary", () => {
  test("a failed run: one testcase per instance, failures with their error and stderr, skipped with its reason; the summary is run_end's", () => {
    const r = runReportPlan(["--json", "-q", "--junit", "{dir}/out/report.xml", "--summary", "{dir}/out/summary.json"], undefined, ["out"]);
    expect(r.code).toBe(1);
    const log = events(r.stdout);
    const ends = log.filter((e): e is TaskEndEvent => e.type === "task_end");
    const report = join(r.dir, "out/report.xml");
    // Well-formed, by a real parser.
    expect(spawnSync("xmllint", ["--noout", report]).status).toBe(0);
    expect(xpath(report, "string(/testsuites/@tests)")).toBe("15");
    expect(xpath(report, "string(/testsuites/@failures)")).toBe("1");
    expect(xpath(report, "string(/testsuites/@skipped)")).toBe("1");
    expect(xpath(report, "count(/testsuites/testsuite)")).toBe("4");
    expect(xpath(report, "count(//testcase)")).toBe(String(ends.length));
    for (const e of ends) {
      const at = `//testsuite[@name="${e.task}"]/testcase[@name="${e.id}"]`;
      expect(xpath(report, `count(${at})`)).toBe("1");
      expect(xpath(report, `string(${at}/@classname)`)).toBe(e.task);
      // Seconds to the millisecond: a duration of 114.5 ms may be written 0.115 (toBeCloseTo(…, 3) refused that).
      expect(xpath(report, `string(${at}/@time)`)).toBe((e.duration_ms / 1000).toFixed(3));
      const outcome = { ok: "", cached: "", failed: "failure", skipped: "skipped", timed_out: "error", cancelled: "skipped" }[e.status as string]!;
      expect(xpath(report, `concat("", name(${at}/*[1]))`)).toBe(outcome);
    }
    const failure = `//testcase[@name="check[h2]"]/failure`;
    const error = ends.find((e) => e.id === "check[h2]")!.error!;
    expect(error).toContain(`<&> "q" ]]>`);
    expect(xpath(report, `string(${failure}/@message)`)).toBe(asXml(error));
    expect(xpath(report, `string(${failure})`)).toBe(asXml(error));
    expect(xpath(report, `string(//testcase[@name="check[h2]"]/system-err)`)).toBe(asXml(CHECK_STDERR));
    expect(xpath(report, `string(//testcase[@name="deploy[h2]"]/skipped/@message)`)).toBe("skipped: check[h2] did not succeed");
    const summary = JSON.parse(readFileSync(join(r.dir, "out/summary.json"), "utf8"));
    expect(summary).toEqual((log.at(-1) as RunEndEvent).summary);
    expect(summary).toMatchObject({ total: 15, ok: 13, failed: 1, skipped: 1, retries: 3 });
    // Written by rename: no temporary file is left beside the reports.
    expect(readdirSync(join(r.dir, "out")).sort()).toEqual(["report.xml", "summary.json"]);
  });

  test("a report path that cannot be written is exit 2 before anything runs", () => {
    const plan = "version: 1\nname: x\ntasks:\n  - name: t\n    module: shell\n    with: { argv: [touch, ran] }\n";
    const missing = runReportPlan(["--junit", "{dir}/no/such/report.xml"], plan);
    expect([missing.code, missing.stdout]).toEqual([2, ""]);
    expect(missing.stderr).toContain(`error: --junit: cannot write ${join(missing.dir, "no/such/report.xml")}: no folder ${join(missing.dir, "no/such")}\n`);
    expect(existsSync(join(missing.dir, "ran"))).toBe(false);
    const directory = runReportPlan(["--summary", "{dir}", "--json"], plan);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain(`error: --summary: cannot write ${directory.dir}: it is a directory\n`);
    // With --json the refusal is an error event, and no run_start.
    expect(directory.stdout.trim().split("\n").map((l) => JSON.parse(l).type)).toEqual(["error"]);
    expect(existsSync(join(directory.dir, "ran"))).toBe(false);
    const dry = runReportPlan(["--dry-run", "--junit", "{dir}/r.xml"], plan);
    expect([dry.code, dry.stderr]).toEqual([2, `error: --junit and --summary report a run: they do nothing with --dry-run\nRun "fanout help run" for usage.\n`]);
  });

  test("a report that cannot be written at the end (its path became a directory) is said on stderr, and a run that succeeded exits 74", () => {
    const plan = "version: 1\nname: x\ntasks:\n  - name: t\n    module: shell\n    with: { argv: [mkdir, report.xml] }\n";
    const r = runReportPlan(["-q", "--junit", "{dir}/report.xml", "--summary", "{dir}/summary.json"], plan);
    expect(r.code).toBe(74);
    expect(r.stderr).toStartWith(`error: --junit: cannot write ${join(r.dir, "report.xml")}: `);
    // The other report is written all the same, and no temporary file is left.
    expect(JSON.parse(readFileSync(join(r.dir, "summary.json"), "utf8"))).toMatchObject({ total: 1, ok: 1 });
    expect(readdirSync(r.dir).filter((f) => f !== ".fanout").sort()).toEqual(["noisy.txt", "plan.yml", "report.xml", "summary.json"]);
  });

  test("after Ctrl-C: both files are written, running instances are skipped testcases, the summary says interrupted", async () => {
    const dir = writeFiles({
      "plan.yml": "version: 1\nname: long\nhosts: [h1, h2]\ntasks:\n  - name: wait\n    module: shell\n    with: { argv: [sleep, 60] }\n",
    });
    writeFileSync(join(dir, "report.xml"), "an older report");
    const child = spawn(process.execPath, ["--no-install", resolve(import.meta.dirname, "../../cli.ts"), "run", "plan.yml", "--json", "-q", "--junit", "report.xml", "--summary", "summary.json"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let starts = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
      const now = stdout.split("\n").filter((l) => l.includes(`"type":"task_start"`)).length;
      if (now === 2 && starts < 2) child.kill("SIGINT");
      starts = now;
    });
    const code = await new Promise<number | null>((done) => child.once("close", done));
    expect(code).toBe(130);
    const report = join(dir, "report.xml");
    expect(xpath(report, "count(//testcase)")).toBe("2");
    expect(xpath(report, "count(//testcase/skipped)")).toBe("2");
    expect(xpath(report, `string(//testcase[@name="wait[h1]"]/skipped/@message)`)).not.toBe("");
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ total: 2, cancelled: 2, interrupted: true });
  });
});
