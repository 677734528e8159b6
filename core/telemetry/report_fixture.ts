/**
 * For tests of what a run reports (JUnit, summary, jq recipes, --output): a
 * plan whose run has a bit of everything — three hosts, a host lock that
 * makes instances wait (the fork limit, 8, never does), a flaky task that
 * fails once per host and then succeeds on retry, a failure on h2 whose
 * stderr holds markup and control characters, and a task skipped behind
 * that failure — run by the real command line in a fresh directory.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFiles } from "../test_helpers.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** What check[h2] writes on stderr: six lines, the last with `<&>`, quotes, `]]>`, \x01 and an escape sequence. */
export const CHECK_STDERR = `l1\nl2\nl3\nl4\nl5\nl6 <&> "q" ]]> \x01\x1b[31m\n`;

export const REPORT_PLAN = `version: 1
name: reports
parallelism: 8
hosts: [h1, h2, h3]
tasks:
  - name: build
    module: shell
    items: [a, b]
    hint: { kind: host_exclusive }
    with: { cmd: "echo built {{ host }} {{ item }}; sleep 0.1", shell: true }
  - name: flaky
    module: shell
    retries: 2
    retry_delay: 0ms
    with: { cmd: "if [ -e flaky.{{ host }} ]; then echo recovered; else touch flaky.{{ host }}; echo first try fails >&2; exit 1; fi", shell: true }
  - name: check
    module: shell
    with: { cmd: "if [ {{ host }} = h2 ]; then cat noisy.txt >&2; exit 3; fi; echo fine", shell: true }
  - name: deploy
    module: shell
    with: { argv: [echo, deployed] }
`;

export interface CliRun {
  dir: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `fanout run plan.yml ARGS` on REPORT_PLAN (or `plan`) in a fresh
 * directory, with `folders` made in it; `{dir}` in args is that directory.
 */
export function runReportPlan(args: string[], plan = REPORT_PLAN, folders: string[] = []): CliRun {
  const dir = writeFiles({ "plan.yml": plan, "noisy.txt": CHECK_STDERR });
  for (const folder of folders) mkdirSync(join(dir, folder));
  const argv = [join(ROOT, "cli.ts"), "run", join(dir, "plan.yml"), ...args.map((a) => a.replaceAll("{dir}", dir))];
  const r = spawnSync(process.execPath, ["--no-install", ...argv], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  return { dir, code: r.status, stdout: r.stdout, stderr: r.stderr };
}
