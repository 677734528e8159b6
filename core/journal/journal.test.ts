/**
 * The journal from real runs of the real program, with the real file: a run
 * killed with SIGKILL then resumed, keys that change when an input, a var or
 * a plugin's code does, schema versions, file modes, two fanouts on one
 * journal, and `fanout history` read with jq. Instances write marker files,
 * so what really ran is counted from the disk, not from our own events.
 */
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fanoutArgv, type FanoutRuntime } from "../runtime/fanout_runtimes.ts";
import { runProcess, writeFiles } from "../test_helpers.ts";
import { JOURNAL_SCHEMA_VERSION } from "./schema.ts";

type Event = Record<string, any>;

async function fanout(dir: string, args: string[], runtime: FanoutRuntime = "bun") {
  const r = await runProcess([...fanoutArgv(runtime), ...args], { cwd: dir, timeoutMs: 120_000 });
  const events: Event[] = args.includes("--json") ? r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
  const ends = new Map<string, Event>(events.filter((e) => e.type === "task_end").map((e) => [e.id, e]));
  return { ...r, events, ends };
}

/** How many times each marker file was appended to: one line per real execution. */
function executions(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const m = join(dir, "m");
  if (!existsSync(m)) return out;
  for (const f of readdirSync(m)) out.set(f, readFileSync(join(m, f), "utf8").split("\n").filter(Boolean).length);
  return out;
}

const statuses = (ends: Map<string, Event>) => Object.fromEntries([...ends].map(([id, e]) => [id, e.status]));

function integrity(path: string): string {
  const db = new DatabaseSync(path);
  try {
    return (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
}

describe("--resume after fanout was killed with SIGKILL", () => {
  test("every item ran at least once; those finished before the kill are cached; re-runs <= instances in flight at the kill", async () => {
    const items = Array.from({ length: 12 }, (_, i) => `i${i}`);
    const dir = writeFiles({
      "plan.yml": `version: 1
name: killed
parallelism: 4
tasks:
  - name: work
    module: shell
    items: [${items.join(", ")}]
    with: { argv: [sh, -c, "mkdir -p m && echo run >> m/{{ item }} && sleep 2"] }
`,
    });
    const child = spawn(fanoutArgv("bun")[0]!, [...fanoutArgv("bun").slice(1), "run", "plan.yml", "--json", "-q"], { cwd: dir, stdio: ["ignore", "pipe", "ignore"] });
    let text = "";
    const seen = () => text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Event);
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk) => {
        text += chunk;
        if (seen().filter((e) => e.type === "task_end").length >= 4) resolve();
      });
    });
    // The next wave is running (2 s each); the finished wave's rows are written within 50 ms.
    await Bun.sleep(700);
    const before = seen();
    const inFlight = before.filter((e) => e.type === "task_start").length - before.filter((e) => e.type === "task_end").length;
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("close", resolve));
    const finishedBeforeKill = before.filter((e) => e.type === "task_end" && e.status === "ok").map((e) => e.id);
    expect(finishedBeforeKill.length).toBeGreaterThanOrEqual(4);
    expect(inFlight).toBeGreaterThan(0);
    expect(inFlight).toBeLessThanOrEqual(4);

    const journal = join(dir, ".fanout/journal.db");
    expect(integrity(journal)).toBe("ok");

    const resumed = await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume"]);
    expect(resumed.code).toBe(0);
    for (const id of finishedBeforeKill) expect(resumed.ends.get(id)).toMatchObject({ status: "cached", cached_from: 1 });
    expect(resumed.ends.size).toBe(items.length);
    expect(resumed.events.at(-1)!.summary).toMatchObject({ total: 12, cached: finishedBeforeKill.length, ok: 12 - finishedBeforeKill.length });

    const runs = executions(dir);
    for (const item of items) expect(runs.get(item) ?? 0).toBeGreaterThanOrEqual(1);
    const reruns = [...runs.values()].reduce((a, n) => a + n, 0) - items.length;
    expect(reruns).toBeLessThanOrEqual(inFlight);
    for (const id of finishedBeforeKill) expect(runs.get(id.match(/\[(i\d+)\]$/)![1]!)).toBe(1);
    expect(integrity(journal)).toBe("ok");
  }, 120_000);
});

describe("rows reach the file while the run goes on", () => {
  test("instances that end at once, one after another, with no pause in between: their rows are written every 50 ms, not at the end", async () => {
    // Each instance blocks for 2 ms and returns: the scheduler's loop never waits, so no timer of its own ever runs.
    const total = 3000;
    const dir = writeFiles({
      "busy.ts": `const cell = new Int32Array(new SharedArrayBuffer(4));
export const parallelizationHint = "fully_parallel";
export default function run() { Atomics.wait(cell, 0, 0, 2); }
`,
      "items.txt": Array.from({ length: total }, (_, i) => `i${i}`).join("\n") + "\n",
      "plan.yml": `version: 1
name: busy
parallelism: 16
plugins: { busy: ./busy.ts }
tasks:
  - { name: busy, module: busy, items_from: { file: items.txt } }
`,
    });
    const path = join(dir, ".fanout/journal.db");
    const child = spawn(fanoutArgv("bun")[0]!, [...fanoutArgv("bun").slice(1), "run", "plan.yml", "-q"], { cwd: dir, stdio: "ignore" });
    let exited = false;
    child.once("exit", () => (exited = true));
    const rowsNow = () => {
      const db = new DatabaseSync(path, { timeout: 10_000 });
      try {
        // The file (and its -wal) exists a moment before its tables are committed.
        if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'attempts'").get()) return { n: 0, ended: null };
        const run = db.prepare("SELECT ended FROM runs WHERE id = 1").get() as { ended: string | null } | undefined;
        const { n } = db.prepare("SELECT count(*) AS n FROM attempts WHERE run_id = 1").get() as { n: number };
        return { n, ended: run?.ended ?? null };
      } finally {
        db.close();
      }
    };
    let seen = 0;
    while (!exited) {
      if (existsSync(`${path}-wal`)) {
        const { n, ended } = rowsNow();
        if (n > 0 && n < total && ended === null) {
          seen = n;
          break;
        }
      }
      await Bun.sleep(20);
    }
    child.kill("SIGKILL");
    await new Promise((resolve) => (exited ? resolve(undefined) : child.once("exit", resolve)));
    expect(seen).toBeGreaterThan(0);
    expect(integrity(path)).toBe("ok");
    expect(rowsNow().n).toBeGreaterThanOrEqual(seen);
  }, 120_000);
});

const THREE = (b: string) => `version: 1
name: three
tasks:
  - { name: a, module: shell, with: { argv: [sh, -c, "mkdir -p m && echo a >> m/a"] } }
  - { name: b, module: shell, with: { argv: [sh, -c, "mkdir -p m && echo ${b} >> m/b"] } }
  - { name: c, module: shell, with: { argv: [sh, -c, "mkdir -p m && echo c >> m/c"] } }
`;

describe("instance keys", () => {
  test("changing one task's input re-runs exactly that instance; so does changing a var it uses", async () => {
    const dir = writeFiles({ "plan.yml": THREE("b1") });
    expect((await fanout(dir, ["run", "plan.yml", "--json", "-q"])).code).toBe(0);
    writeFileSync(join(dir, "plan.yml"), THREE("b2"));
    const second = await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume"]);
    expect(second.code).toBe(0);
    expect(statuses(second.ends)).toEqual({ "a[localhost]": "cached", "b[localhost]": "ok", "c[localhost]": "cached" });
    writeFileSync(join(dir, "plan.yml"), THREE("{{ vars.v }}"));
    await fanout(dir, ["run", "plan.yml", "-q", "--resume", "--var", "v=1"]);
    const withVar = await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume", "--var", "v=2"]);
    expect(statuses(withVar.ends)).toEqual({ "a[localhost]": "cached", "b[localhost]": "ok", "c[localhost]": "cached" });
    expect(Object.fromEntries(executions(dir))).toEqual({ a: 1, b: 4, c: 1 });
  }, 120_000);

  test("changing a plugin's code, or a file it imports, re-runs its instances and only those", async () => {
    const plugin = (n: number) => `import { mark } from "./helper.ts";
export default function run(_input: unknown, ctx: { planDir: string }) { mark(ctx.planDir, "plug"); return { data: { version: ${n} } }; }
`;
    const helper = (extra: string) => `import { appendFileSync, mkdirSync } from "node:fs";
export function mark(dir: string, name: string) { mkdirSync(dir + "/m", { recursive: true }); appendFileSync(dir + "/m/" + name, "run\\n"); }
${extra}`;
    const dir = writeFiles({
      "plan.yml": `version: 1
name: plug
plugins: { mine: ./plugin.ts }
tasks:
  - { name: p, module: mine }
  - { name: s, module: shell, with: { argv: [sh, -c, "mkdir -p m && echo s >> m/s"] }, needs: [] }
`,
      "plugin.ts": plugin(1),
      "helper.ts": helper(""),
    });
    expect((await fanout(dir, ["run", "plan.yml", "-q"])).code).toBe(0);
    expect(statuses((await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume"])).ends)).toEqual({ "p[localhost]": "cached", "s[localhost]": "cached" });
    writeFileSync(join(dir, "plugin.ts"), plugin(2));
    expect(statuses((await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume"])).ends)).toEqual({ "p[localhost]": "ok", "s[localhost]": "cached" });
    writeFileSync(join(dir, "helper.ts"), helper("// changed\n"));
    expect(statuses((await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume"])).ends)).toEqual({ "p[localhost]": "ok", "s[localhost]": "cached" });
    expect(Object.fromEntries(executions(dir))).toEqual({ plug: 3, s: 1 });
  }, 120_000);

  test("a failed instance is not cached: --resume runs it again, and its dependents then run", async () => {
    const dir = writeFiles({
      "plan.yml": `version: 1
name: retry-later
tasks:
  - { name: gate, module: shell, with: { argv: [sh, -c, "mkdir -p m && echo g >> m/gate && test -e ok"] } }
  - { name: after, module: shell, with: { argv: [sh, -c, "echo a >> m/after"] } }
`,
    });
    const first = await fanout(dir, ["run", "plan.yml", "--json", "-q"]);
    expect(first.code).toBe(1);
    writeFileSync(join(dir, "ok"), "");
    const second = await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume"]);
    expect(second.code).toBe(0);
    expect(statuses(second.ends)).toEqual({ "gate[localhost]": "ok", "after[localhost]": "ok" });
    const third = await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume"]);
    expect(third.ends.get("gate[localhost]")).toMatchObject({ status: "cached", cached_from: 2 });
    expect(Object.fromEntries(executions(dir))).toEqual({ gate: 2, after: 1 });
  }, 120_000);
});

describe("what --resume reads at the start", () => {
  const rowsOf = (path: string, sql: string) => {
    const db = new DatabaseSync(path);
    try {
      return db.prepare(sql).all().map((r) => ({ ...r }));
    } finally {
      db.close();
    }
  };

  test("one row per instance that ended ok, with its latest run, however many runs the plan has behind it", async () => {
    const dir = writeFiles({ "plan.yml": THREE("b"), "other.yml": THREE("b").replace("name: three", "name: other") });
    for (let i = 0; i < 3; i++) expect((await fanout(dir, ["run", "plan.yml", "-q"])).code).toBe(0);
    // c fails in the fourth run: its latest success stays run 3.
    writeFileSync(join(dir, "plan.yml"), THREE("b").replace('echo c >> m/c"', 'echo c >> m/c && false"'));
    expect((await fanout(dir, ["run", "plan.yml", "-q"])).code).toBe(1);
    expect((await fanout(dir, ["run", "other.yml", "-q"])).code).toBe(0);
    const path = join(dir, ".fanout/journal.db");
    const finished = rowsOf(path, "SELECT plan, run_id FROM finished ORDER BY plan, run_id");
    expect(finished).toEqual([
      { plan: "other", run_id: 5 }, { plan: "other", run_id: 5 }, { plan: "other", run_id: 5 },
      // a and b in run 4; c's failed input is another key, and its success is run 3's
      { plan: "three", run_id: 3 }, { plan: "three", run_id: 4 }, { plan: "three", run_id: 4 },
    ]);
    // Every key the attempts say ended ok is there, with the latest such run.
    expect(rowsOf(path, `SELECT r.plan, a.key, max(a.run_id) AS run_id FROM attempts a JOIN runs r ON r.id = a.run_id
      WHERE a.status = 'ok' AND a.final = 1 GROUP BY r.plan, a.key ORDER BY 1, 2`))
      .toEqual(rowsOf(path, "SELECT plan, key, run_id FROM finished ORDER BY 1, 2"));
    writeFileSync(join(dir, "plan.yml"), THREE("b"));
    const resumed = await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume"]);
    expect([...resumed.ends.values()].map((e) => [e.id, e.status, e.cached_from])).toEqual([
      ["a[localhost]", "cached", 4], ["b[localhost]", "cached", 4], ["c[localhost]", "cached", 3],
    ]);
  }, 120_000);

  test("a journal written before that table (schema 2) is brought up to date, and --resume finds what it recorded", async () => {
    const dir = writeFiles({ "plan.yml": THREE("b") });
    expect((await fanout(dir, ["run", "plan.yml", "-q"])).code).toBe(0);
    expect((await fanout(dir, ["run", "plan.yml", "-q"])).code).toBe(0);
    // The file as schema 2 left it: no finished table, no trigger.
    const path = join(dir, ".fanout/journal.db");
    const db = new DatabaseSync(path);
    db.exec("DROP TRIGGER attempts_finished; DROP TABLE finished; UPDATE meta SET value = '2' WHERE key = 'schema_version';");
    db.close();
    const resumed = await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume"]);
    expect(resumed.code).toBe(0);
    expect([...resumed.ends.values()].map((e) => [e.status, e.cached_from])).toEqual([["cached", 2], ["cached", 2], ["cached", 2]]);
    expect(Object.fromEntries(executions(dir))).toEqual({ a: 2, b: 2, c: 2 });
    expect(rowsOf(path, "SELECT value FROM meta WHERE key = 'schema_version'")).toEqual([{ value: String(JOURNAL_SCHEMA_VERSION) }]);
    expect(rowsOf(path, "SELECT count(*) AS n FROM finished")).toEqual([{ n: 3 }]);
  }, 120_000);
});

describe("the journal file", () => {
  test("is .fanout/journal.db beside the plan, 0600 (its -wal too) in a 0700 directory; --journal moves it; --no-journal writes none", async () => {
    const dir = writeFiles({ "sub/plan.yml": THREE("b") });
    expect((await fanout(dir, ["run", "sub/plan.yml", "-q"])).code).toBe(0);
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    expect(mode(join(dir, "sub/.fanout"))).toBe("700");
    expect(mode(join(dir, "sub/.fanout/journal.db"))).toBe("600");
    for (const f of readdirSync(join(dir, "sub/.fanout"))) expect(mode(join(dir, "sub/.fanout", f))).toBe("600");
    expect((await fanout(dir, ["run", "sub/plan.yml", "-q", "--journal", "elsewhere/j.db"])).code).toBe(0);
    expect(mode(join(dir, "elsewhere/j.db"))).toBe("600");
    const other = writeFiles({ "plan.yml": THREE("b") });
    expect((await fanout(other, ["run", "plan.yml", "-q", "--no-journal"])).code).toBe(0);
    expect(existsSync(join(other, ".fanout"))).toBe(false);
  }, 120_000);

  test("--resume without a journal is exit 2 saying why; a plan from stdin gets no journal unless --journal is given", async () => {
    const dir = writeFiles({ "plan.yml": THREE("b") });
    const off = await fanout(dir, ["run", "plan.yml", "--resume", "--no-journal"]);
    expect(off.code).toBe(2);
    expect(off.stderr).toContain("--resume needs the journal, and --no-journal turns it off");
    const stdin = spawnSync("sh", ["-c", `${fanoutArgv("bun").join(" ")} run - --resume < plan.yml`], { cwd: dir, encoding: "utf8" });
    expect(stdin.status).toBe(2);
    expect(stdin.stderr).toContain("a plan read from stdin has none by default: give --journal PATH");
    const plain = spawnSync("sh", ["-c", `${fanoutArgv("bun").join(" ")} run - -q < plan.yml`], { cwd: dir, encoding: "utf8" });
    expect(plain.status).toBe(0);
    expect(existsSync(join(dir, ".fanout"))).toBe(false);
  }, 120_000);

  test("a journal from a newer fanout is refused (exit 2) and left as it was; an empty file is set up", async () => {
    const dir = writeFiles({ "plan.yml": THREE("b") });
    mkdirSync(join(dir, ".fanout"));
    writeFileSync(join(dir, ".fanout/journal.db"), "");
    expect((await fanout(dir, ["run", "plan.yml", "-q"])).code).toBe(0);
    const db = new DatabaseSync(join(dir, ".fanout/journal.db"));
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(JOURNAL_SCHEMA_VERSION + 1));
    db.close();
    const before = readFileSync(join(dir, ".fanout/journal.db"));
    const r = await fanout(dir, ["run", "plan.yml", "--resume"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`was written by a newer fanout (journal schema ${JOURNAL_SCHEMA_VERSION + 1}; this fanout reads up to ${JOURNAL_SCHEMA_VERSION})`);
    expect(existsSync(join(dir, "m/a"))).toBe(true);
    expect(readFileSync(join(dir, "m/a"), "utf8")).toBe("a\n");
    expect(readFileSync(join(dir, ".fanout/journal.db")).equals(before)).toBe(true);
  }, 120_000);

  test("two fanouts writing one journal at once: both runs are recorded whole and the file stays sound", async () => {
    const items = Array.from({ length: 300 }, (_, i) => `i${i}`).join(", ");
    const dir = writeFiles({ "plan.yml": `version: 1\nname: twice\nparallelism: 8\ntasks:\n  - { name: t, module: sleep, items: [${items}], with: { duration: 1ms } }\n` });
    const [a, b] = await Promise.all([fanout(dir, ["run", "plan.yml", "-q"]), fanout(dir, ["run", "plan.yml", "-q"])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const path = join(dir, ".fanout/journal.db");
    expect(integrity(path)).toBe("ok");
    const db = new DatabaseSync(path);
    const rows = db.prepare("SELECT run_id, count(*) AS n FROM attempts GROUP BY run_id ORDER BY run_id").all();
    const runs = db.prepare("SELECT id, exit_code, ok FROM runs ORDER BY id").all();
    db.close();
    expect(rows.map((r) => ({ ...r }))).toEqual([{ run_id: 1, n: 300 }, { run_id: 2, n: 300 }]);
    expect(runs.map((r) => ({ ...r }))).toEqual([{ id: 1, exit_code: 0, ok: 300 }, { id: 2, exit_code: 0, ok: 300 }]);
  }, 120_000);
});

describe("fanout history", () => {
  test("--json is NDJSON that jq reads: runs with their counts; --run lists a run's attempts; --failed what failed last", async () => {
    const dir = writeFiles({
      "plan.yml": `version: 1
name: hist
tasks:
  - { name: t, module: shell, items: [good, bad], with: { argv: [sh, -c, "test {{ item }} = good"] } }
`,
    });
    await fanout(dir, ["run", "plan.yml", "-q"]);
    await fanout(dir, ["run", "plan.yml", "-q", "--resume"]);
    const jq = (input: string, filter: string) => {
      const r = spawnSync("jq", ["-c", filter], { input, encoding: "utf8" });
      expect(r.status).toBe(0);
      return r.stdout.trim().split("\n");
    };
    const runs = await fanout(dir, ["history", "plan.yml", "--json"]);
    expect(runs.code).toBe(0);
    expect(jq(runs.stdout, "[.run, .ok, .failed, .cached, .exit_code]")).toEqual(["[1,1,1,0,1]", "[2,0,1,1,1]"]);
    const byName = await fanout(dir, ["history", "hist", "--json"]);
    expect(byName.stdout).toBe(runs.stdout);
    const run2 = await fanout(dir, ["history", "plan.yml", "--run", "2", "--json"]);
    expect(jq(run2.stdout, "[.id, .status, .cached_from]").sort()).toEqual(['["t[localhost][bad]","failed",null]', '["t[localhost][good]","cached",1]']);
    const failed = await fanout(dir, ["history", "plan.yml", "--failed", "--json"]);
    expect(jq(failed.stdout, "[.run, .id, .error]")).toEqual(['[2,"t[localhost][bad]","sh: exit code 1"]']);
    const table = await fanout(dir, ["history", "plan.yml"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^RUN\s+PLAN\s+STARTED\s+DURATION\s+OK\s+FAILED\s+SKIPPED\s+CACHED\s+MAKESPAN\s+EXIT$/);
    const missing = await fanout(dir, ["history", "plan.yml", "--run", "9"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no run 9");
  }, 120_000);
});

describe("on every runtime", () => {
  for (const runtime of ["deno", "binary"] as const) {
    test(`${runtime}: a run is recorded, --resume caches it, history reads it`, async () => {
      const dir = writeFiles({ "plan.yml": THREE("b") });
      expect((await fanout(dir, ["run", "plan.yml", "-q"], runtime)).code).toBe(0);
      const resumed = await fanout(dir, ["run", "plan.yml", "--json", "-q", "--resume"], runtime);
      expect(resumed.code).toBe(0);
      expect(statuses(resumed.ends)).toEqual({ "a[localhost]": "cached", "b[localhost]": "cached", "c[localhost]": "cached" });
      const history = await fanout(dir, ["history", "--json"], runtime);
      expect(history.stdout.trim().split("\n").map((l) => JSON.parse(l).cached)).toEqual([0, 3]);
      expect(Object.fromEntries(executions(dir))).toEqual({ a: 1, b: 1, c: 1 });
    }, 240_000);
  }
});
