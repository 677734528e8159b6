/** The benchmark's inputs do what their names say when the real tools run them. */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runPlanText, writeFiles } from "../../core/test_helpers.ts";
import { commandLines, compileMakefile, cSource, itemLines, phonyMakefile, shellPlan } from "./inputs.ts";

const have = (program: string) => spawnSync("sh", ["-c", `command -v ${program}`]).status === 0;
const HAVE_MAKE = have("make");
const HAVE_GCC = have("gcc");

describe("shellPlan › a plan fanout runs as written", () => {
  test("no items: one instance", async () => {
    const run = await runPlanText(shellPlan({ name: "one", argv: ["true"] }));
    expect(run.exitCode).toBe(0);
    expect(run.ends.map((e) => e.status)).toEqual(["ok"]);
  });

  test("items from a file: one instance per line, each rendering its item into argv", async () => {
    const yaml = shellPlan({ name: "touch", argv: ["touch", "out-{{ item }}"], itemsFile: "list.items", parallelism: 3 });
    const run = await runPlanText(yaml, {}, { "list.items": itemLines(5) });
    expect(run.exitCode).toBe(0);
    expect(run.ends.filter((e) => e.status === "ok")).toHaveLength(5);
    for (let i = 0; i < 5; i++) expect(existsSync(join(run.dir, `out-${i}`))).toBe(true);
    expect(yaml).toContain("parallelism: 3\n");
  });

  test("inline items and a cpu need", async () => {
    const run = await runPlanText(shellPlan({ name: "c", argv: ["touch", "{{ item }}.done"], items: ["a b", "c"], cpu: 1 }));
    expect(run.exitCode).toBe(0);
    expect(existsSync(join(run.dir, "a b.done"))).toBe(true);
    expect(existsSync(join(run.dir, "c.done"))).toBe(true);
  });

  test("refuses an empty argv, and items given twice", () => {
    expect(() => shellPlan({ name: "x", argv: [] })).toThrow(/argv must not be empty/);
    expect(() => shellPlan({ name: "x", argv: ["true"], items: ["a"], itemsFile: "f" })).toThrow(/not both/);
  });
});

describe("itemLines / commandLines", () => {
  test("one line per item or command", () => {
    expect(itemLines(3)).toBe("0\n1\n2\n");
    expect(commandLines(["sleep", "0.05"], 2)).toBe("sleep 0.05\nsleep 0.05\n");
  });

  test("commandLines refuses what the pool's split on spaces would change", () => {
    expect(() => commandLines(["echo", "a b"], 1)).toThrow(/splits on spaces/);
    expect(() => commandLines(["echo", ""], 1)).toThrow(/splits on spaces/);
  });
});

describe.skipIf(!HAVE_MAKE)("Makefiles › what make really does with them (needs make)", () => {
  test("phonyMakefile: make runs the command once per target", () => {
    const dir = writeFiles({ "t.mk": phonyMakefile("echo ran", 4) });
    const res = spawnSync("make", ["-s", "-j2", "-f", "t.mk"], { cwd: dir, encoding: "utf8" });
    expect(res.status).toBe(0);
    expect(res.stdout).toBe("ran\n".repeat(4));
    // Phony: a second run does it all again.
    expect(spawnSync("make", ["-s", "-f", "t.mk"], { cwd: dir, encoding: "utf8" }).stdout).toBe("ran\n".repeat(4));
  });

  test("compileMakefile: the gcc command for every source, objects into the directory", () => {
    const dir = writeFiles({ "c.mk": compileMakefile(["a", "b"], "obj") });
    mkdirSync(join(dir, "src"));
    for (const name of ["a", "b"]) writeFileSync(join(dir, "src", `${name}.c`), "");
    const res = spawnSync("make", ["-n", "-f", "c.mk"], { cwd: dir, encoding: "utf8" });
    expect(res.status).toBe(0);
    expect(res.stdout.trim().split("\n").sort()).toEqual(["gcc -O2 -c src/a.c -o obj/a.o", "gcc -O2 -c src/b.c -o obj/b.o"]);
  });
});

describe.skipIf(!HAVE_GCC || !HAVE_MAKE)("cSource (needs gcc and make)", () => {
  test("compiles with gcc -O2 -c through the generated Makefile; files differ by seed", () => {
    const dir = writeFiles({ "c.mk": compileMakefile(["x0", "x1"], "obj") });
    mkdirSync(join(dir, "src"));
    mkdirSync(join(dir, "obj"));
    for (const [i, name] of ["x0", "x1"].entries()) writeFileSync(join(dir, "src", `${name}.c`), cSource(i));
    expect(cSource(0)).not.toBe(cSource(1));
    const res = spawnSync("make", ["-s", "-j2", "-f", "c.mk"], { cwd: dir, encoding: "utf8" });
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(existsSync(join(dir, "obj", "x0.o")) && existsSync(join(dir, "obj", "x1.o"))).toBe(true);
  });
});
