/** --partition K/N: checked on the task_end ids of real runs, each a fanout process. */
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { runProcess, writeFiles } from "../test_helpers.ts";
import { fnv1a, parsePartition } from "./partition.ts";

const CLI = resolve(import.meta.dir, "../../cli.ts");

type Event = Record<string, unknown> & { type: string };

async function run(plan: string, ...args: string[]) {
  const dir = writeFiles({ "plan.yml": plan });
  const r = await runProcess([process.execPath, "--no-install", CLI, "run", join(dir, "plan.yml"), "--no-journal", "--json", "-q", ...args], { cwd: dir });
  const events = r.stdout.trim() === "" ? [] : r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Event);
  return { ...r, events, ends: events.filter((e) => e.type === "task_end").map((e) => e.id as string) };
}

/** Runs the plan whole and as partitions 1..n; the partitions' ids are disjoint and their union is the whole run's. */
async function coversExactlyOnce(plan: string, mode: string, n: number) {
  const whole = await run(plan);
  expect(whole.code).toBe(0);
  const parts = await Promise.all(Array.from({ length: n }, (_, k) => run(plan, "--partition", `${mode}${k + 1}/${n}`)));
  const all: string[] = [];
  for (const [k, part] of parts.entries()) {
    expect(part.code).toBe(0);
    const info = part.events[0]!.partition as Record<string, unknown>;
    expect(info).toMatchObject({ k: k + 1, n, instances: part.ends.length, of_instances: whole.ends.length });
    expect((part.events.at(-1)!.summary as Record<string, unknown>).partition).toEqual(info);
    all.push(...part.ends);
  }
  expect(all.length).toBe(whole.ends.length);
  expect(new Set(all).size).toBe(all.length);
  expect(all.sort()).toEqual(whole.ends.sort());
  return parts;
}

const HOSTS = `version: 1
hosts: [web1, web2, web3, db1, db2]
tasks:
  - name: fetch
    module: shell
    with: { argv: [echo, fetch] }
  - name: build
    module: shell
    items: [a, b, a]
    with: { argv: [echo, "{{ item }}"] }
  - name: deploy
    module: shell
    hosts: [web1, web2, web3]
    with: { argv: [echo, deploy] }
`;

const ONE_HOST = `version: 1
hosts: [local]
tasks:
  - name: digest
    module: shell
    needs: []
    items: [f1, f2, f3, f4, f5, f6, f7, dup, dup]
    with: { argv: [echo, "{{ item }}"] }
  - name: lone
    module: shell
    needs: []
    with: { argv: [echo, lone] }
`;

describe("--partition", () => {
  test("by host, slice: every instance once over 3 partitions, a host's chain together", async () => {
    const parts = await coversExactlyOnce(HOSTS, "", 3);
    expect(parts[0]!.events[0]!.partition).toMatchObject({ mode: "slice", by: "host" });
    // Slice is round robin over the plan's hosts: web1 and db1 in the first.
    expect(parts[0]!.events[0]!.hosts).toEqual(["web1", "db1"]);
  }, 120_000);

  test("by host, hash: every instance once over 2 partitions", async () => {
    const parts = await coversExactlyOnce(HOSTS, "hash:", 2);
    expect(parts[0]!.events[0]!.partition).toMatchObject({ mode: "hash", by: "host" });
  }, 120_000);

  test("by item in a plan of one host, ids (repeated items too) as in the whole run", async () => {
    const parts = await coversExactlyOnce(ONE_HOST, "slice:", 4);
    expect(parts[0]!.events[0]!.partition).toMatchObject({ by: "item" });
    await coversExactlyOnce(ONE_HOST, "hash:", 3);
  }, 120_000);

  test("more partitions than hosts: an empty share runs nothing and exits 0", async () => {
    const r = await run(HOSTS, "--partition", "9/9");
    expect(r.code).toBe(0);
    expect(r.ends).toEqual([]);
    expect(r.events[0]!.partition).toMatchObject({ instances: 0, of_instances: 23 });
  }, 60_000);

  test("a dependency across partitions is an error naming it (exit 2), for every K", async () => {
    const crossing = HOSTS.replace("hosts: [web1, web2, web3]\n", "hosts: [web1, web2, web3]\n    needs: [fetch, build]\n")
      .replace("  - name: deploy", "  - name: migrate\n    module: shell\n    hosts: [db1]\n    with: { argv: [echo, migrate] }\n  - name: deploy")
      .replace("needs: [fetch, build]", "needs: [fetch, migrate]");
    for (const k of [1, 2]) {
      const r = await run(crossing, "--partition", `${k}/2`);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`"deploy" on web1 needs "migrate" on db1`);
      expect(r.ends).toEqual([]);
    }
    const chained = ONE_HOST.replace("    needs: []\n    with: { argv: [echo, lone] }", "    with: { argv: [echo, lone] }");
    const r = await run(chained, "--partition", "1/2");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`"lone" on local needs "digest" on local`);
    expect(r.stderr).toContain("partitioning by item");
  }, 60_000);

  test("parsePartition: the forms, and a clear error otherwise", () => {
    expect(parsePartition("2/5")).toEqual({ mode: "slice", k: 2, n: 5 });
    expect(parsePartition("hash:1/1")).toEqual({ mode: "hash", k: 1, n: 1 });
    for (const bad of ["0/3", "4/3", "3", "count:1/2", "1/0", "a/b"]) expect(() => parsePartition(bad)).toThrow("--partition: expected K/N");
  });

  test("fnv1a: the reference values", () => {
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });
});
