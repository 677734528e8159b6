/** --limit, --only, --start-at: checked on real runs' events, dry-run bytes and exit codes. */
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { runProcess, writeFiles } from "../test_helpers.ts";

const CLI = resolve(import.meta.dir, "../../cli.ts");

const PLAN = `version: 1
hosts: [web1, web2, db1]
tasks:
  - name: fetch
    module: shell
    with: { argv: [echo, fetch] }
  - name: build
    module: shell
    hosts: [web1, web2]
    with: { argv: [echo, build] }
  - name: checks
    parallel:
      - { name: lint, module: shell, with: { argv: [echo, lint] } }
      - { name: unit, module: shell, with: { argv: [echo, unit] } }
  - name: migrate
    module: shell
    hosts: [db1]
    needs: [fetch]
    with: { argv: [echo, migrate] }
  - name: deploy
    module: shell
    hosts: [web1, web2]
    needs: [build, migrate]
    with: { argv: [echo, deploy] }
`;

async function fanout(...args: string[]) {
  const dir = writeFiles({ "plan.yml": PLAN });
  return await runProcess([process.execPath, "--no-install", CLI, "run", join(dir, "plan.yml"), "--no-journal", ...args], { cwd: dir });
}

type Event = Record<string, unknown> & { type: string };
const events = (stdout: string): Event[] => stdout.trim().split("\n").map((l) => JSON.parse(l) as Event);

/** The ids that ended, and the no-silent-success invariant: one task_end per planned instance. */
function ended(stdout: string): string[] {
  const log = events(stdout);
  const start = log.find((e) => e.type === "run_start")!;
  const ends = log.filter((e) => e.type === "task_end").map((e) => e.id as string);
  expect(new Set(ends).size).toBe(ends.length);
  expect(ends.length).toBe(start.instances as number);
  return ends.sort();
}

describe("selecting work", () => {
  test("--only: the task and what it needs, transitively, and nothing else runs", async () => {
    const r = await fanout("--only", "deploy", "--json");
    expect(r.code).toBe(0);
    expect(ended(r.stdout)).toEqual(["build[web1]", "build[web2]", "deploy[web1]", "deploy[web2]", "fetch[db1]", "fetch[web1]", "fetch[web2]", "migrate[db1]"]);
    expect(events(r.stdout)[0]!.selection).toEqual({
      limit: null, only: ["deploy"], start_at: null, tasks: ["fetch", "build", "migrate", "deploy"], hosts: ["web1", "web2", "db1"],
    });
  }, 60_000);

  test("--limit keeps only those hosts; a need on a host left out counts as met", async () => {
    const r = await fanout("--limit", "web1", "--only", "deploy", "--json");
    expect(r.code).toBe(0);
    expect(ended(r.stdout)).toEqual(["build[web1]", "deploy[web1]", "fetch[web1]"]);
    const start = events(r.stdout)[0]!;
    expect([start.hosts, start.instances]).toEqual([["web1"], 3]);
  }, 60_000);

  test("--only takes a parallel: group's name; names are comma-separated and the flag repeats", async () => {
    const r = await fanout("--only", "checks", "--limit", "web2,db1", "--json");
    expect(ended(r.stdout)).toEqual(["build[web2]", "fetch[db1]", "fetch[web2]", "lint[db1]", "lint[web2]", "unit[db1]", "unit[web2]"]);
    const two = await fanout("--only", "lint", "--only", "migrate", "--limit", "db1", "--json");
    expect(ended(two.stdout)).toEqual(["fetch[db1]", "lint[db1]", "migrate[db1]"]);
  }, 60_000);

  test("--start-at: nothing before it in plan order; its needs on what was skipped count as met", async () => {
    const r = await fanout("--start-at", "checks", "--limit", "web2", "--dry-run");
    expect([r.code, r.stdout]).toEqual([0, [
      "plan plan: 3 instances, forks 3 (3: 3 tasks can run at once: lint 1 (instances), unit 1 (instances), deploy 1 (instances))",
      "lint[web2]  module shell  guards none",
      "  $ echo lint",
      "unit[web2]  module shell  guards none",
      "  $ echo unit",
      "deploy[web2]  module shell  guards none",
      "  $ echo deploy",
      "",
    ].join("\n")]);
  }, 60_000);

  test("unknown names and an empty selection are usage errors (exit 2) and nothing runs", async () => {
    const typo = await fanout("--only", "chekcs", "--json");
    expect([typo.code, typo.stderr.split("\n")[0]]).toEqual([2, `error: --only: no "chekcs" among tasks and groups (did you mean "checks"?); expected one of: fetch, build, lint, unit, migrate, deploy, checks`]);
    expect(events(typo.stdout).map((e) => e.type)).toEqual(["error"]);
    const host = await fanout("--limit", "web3");
    expect([host.code, host.stderr.split("\n")[0]]).toEqual([2, `error: --limit: no "web3" among the plan's hosts (did you mean "web1"?); expected one of: web1, web2, db1`]);
    const none = await fanout("--limit", "db1", "--only", "build");
    expect([none.code, none.stderr.split("\n")[0]]).toEqual([2, "error: the selection (--limit db1 --only build) leaves nothing to run"]);
    const two = await fanout("--start-at", "build,deploy");
    expect([two.code, two.stderr.split("\n")[0]]).toEqual([2, `error: --start-at: expected one task, got "build,deploy"`]);
  }, 60_000);

  test("without a selection run_start has no selection field", async () => {
    const r = await fanout("--json");
    expect(r.code).toBe(0);
    expect(ended(r.stdout)).toHaveLength(14);
    expect("selection" in events(r.stdout)[0]!).toBe(false);
  }, 60_000);
});
