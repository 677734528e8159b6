/**
 * A journal damaged by a crash of the machine (synchronous=OFF gives that
 * up, open_journal.ts) is moved aside with a warning and a new one started:
 * the run goes on, nothing is wrongly cached, and `fanout history` says what
 * is wrong instead of replacing the file.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fanoutArgv } from "../runtime/fanout_runtimes.ts";
import { runProcess, writeFiles } from "../test_helpers.ts";

const GARBAGE = Buffer.alloc(8192, "not a database, a torn write ");

describe("a damaged journal", () => {
  test("is moved aside with a warning, and the run records into a new one", async () => {
    const dir = writeFiles({ "plan.yml": "version: 1\nname: damaged\ntasks:\n  - { name: t, module: shell, with: { argv: [sh, -c, 'echo ran >> marker'] } }\n" });
    mkdirSync(join(dir, ".fanout"), { mode: 0o700 });
    writeFileSync(join(dir, ".fanout/journal.db"), GARBAGE, { mode: 0o600 });

    const history = await runProcess([...fanoutArgv("bun"), "history", "plan.yml"], { cwd: dir });
    expect(history.code).toBe(2);
    expect(history.stderr).toMatch(/journal .*journal\.db: .*not a database/);
    expect(readFileSync(join(dir, ".fanout/journal.db"))).toEqual(GARBAGE);

    const run = await runProcess([...fanoutArgv("bun"), "run", "plan.yml", "--resume", "--json"], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/warning: the journal .*journal\.db was damaged .*moved to .*journal\.db\.damaged-/);
    expect(readFileSync(join(dir, "marker"), "utf8")).toBe("ran\n");
    const aside = readdirSync(join(dir, ".fanout")).filter((f) => f.startsWith("journal.db.damaged-"));
    expect(aside.length).toBe(1);
    expect(readFileSync(join(dir, ".fanout", aside[0]!))).toEqual(GARBAGE);

    // The new journal works: a resumed run finds the instance.
    const again = await runProcess([...fanoutArgv("bun"), "run", "plan.yml", "--resume", "--json"], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('"status":"cached"');
    expect(existsSync(join(dir, ".fanout/journal.db"))).toBe(true);
    expect(readFileSync(join(dir, "marker"), "utf8")).toBe("ran\n");
  }, 120_000);
});
