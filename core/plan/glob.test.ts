/** The items_from glob: each documented form on a real directory tree. */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { tempDir } from "../test_helpers.ts";
import { expandBraces, globBase, globFiles, GlobError } from "./glob.ts";

/** Creates the files (path → text) under a fresh directory; returns it. */
function tree(paths: string[]): string {
  const dir = tempDir("fanout-glob-");
  for (const p of paths) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    if (p.endsWith("/")) mkdirSync(join(dir, p), { recursive: true });
    else writeFileSync(join(dir, p), p);
  }
  return dir;
}

/** Matches as paths relative to `dir`, in the order globFiles gives them. */
function matches(dir: string, pattern: string): string[] {
  return globFiles(pattern, dir).map((p) => p.slice(dir.length + 1));
}

function globError(pattern: string, dir = tree([])): string {
  try {
    globFiles(pattern, dir);
  } catch (e) {
    if (e instanceof GlobError) return e.message;
    throw e;
  }
  throw new Error(`expected ${pattern} to be refused`);
}

describe("globFiles › wildcards", () => {
  const dir = tree(["a.csv", "b.csv", "ab.csv", "c.tsv", "x-1.txt", "]odd", "sub/d.csv", "sub/deeper/e.csv", "dir.csv/"]);

  test("* matches within one name, files only, sorted", () => {
    expect(matches(dir, "*.csv")).toEqual(["a.csv", "ab.csv", "b.csv"]);
    expect(matches(dir, "*/*.csv")).toEqual(["sub/d.csv"]);
  });

  test("? matches one character", () => {
    expect(matches(dir, "?.csv")).toEqual(["a.csv", "b.csv"]);
  });

  test("[abc], [a-c], [!a] and [^a], a leading ] and an escaped [", () => {
    expect(matches(dir, "[ab].csv")).toEqual(["a.csv", "b.csv"]);
    expect(matches(dir, "[a-b]*.csv")).toEqual(["a.csv", "ab.csv", "b.csv"]);
    expect(matches(dir, "[!a].csv")).toEqual(["b.csv"]);
    expect(matches(dir, "[^a].csv")).toEqual(["b.csv"]);
    expect(matches(dir, "x[-]1.txt")).toEqual(["x-1.txt"]);
    expect(matches(dir, "[]]odd")).toEqual(["]odd"]);
    const brackets = tree(["[x].csv", "x.csv"]);
    expect(matches(brackets, "\\[x].csv")).toEqual(["[x].csv"]);
    expect(matches(brackets, "[x].csv")).toEqual(["x.csv"]);
  });

  test("absolute patterns are taken as they are", () => {
    expect(globFiles(join(dir, "sub/*.csv"), "/elsewhere")).toEqual([join(dir, "sub/d.csv")]);
  });

  test("a pattern without wildcards names one file", () => {
    expect(matches(dir, "sub/d.csv")).toEqual(["sub/d.csv"]);
    expect(matches(dir, "sub/nope.csv")).toEqual([]);
  });
});

describe("globFiles › {a,b} alternatives", () => {
  const dir = tree(["a.csv", "b.tsv", "c.txt", "x/1.csv", "y/2.csv", "z/3.csv"]);

  test("alternatives may hold wildcards", () => {
    expect(matches(dir, "{*.csv,*.tsv}")).toEqual(["a.csv", "b.tsv"]);
    expect(matches(dir, "*.{csv,tsv}")).toEqual(["a.csv", "b.tsv"]);
  });

  test("nested alternatives and alternatives across directories", () => {
    expect(expandBraces("a{b,c{d,e}}f")).toEqual(["abf", "acdf", "acef"]);
    expect(matches(dir, "{x,{y,q}}/*.csv")).toEqual(["x/1.csv", "y/2.csv"]);
    expect(matches(dir, "{a.csv,x/*}")).toEqual(["a.csv", "x/1.csv"]);
  });

  test("a file matched by two alternatives is listed once", () => {
    expect(matches(dir, "{*.csv,a.*}")).toEqual(["a.csv"]);
  });

  test("an empty alternative, a lone } and an escaped { are plain", () => {
    expect(expandBraces("a{,b}")).toEqual(["a", "ab"]);
    expect(expandBraces("a}b")).toEqual(["a}b"]);
    expect(expandBraces("a\\{b,c}")).toEqual(["a\\{b,c}"]);
    expect(expandBraces("[{]x")).toEqual(["[{]x"]);
  });
});

describe("globFiles › ** and dotfiles", () => {
  const dir = tree(["top.csv", ".hidden.csv", "a/one.csv", "a/b/two.csv", "a/.dot/three.csv", ".git/four.csv", "a/b/.five.csv"]);

  test("** is any number of directories, none included", () => {
    expect(matches(dir, "**/*.csv")).toEqual(["a/b/two.csv", "a/one.csv", "top.csv"]);
    expect(matches(dir, "a/**/two.csv")).toEqual(["a/b/two.csv"]);
    expect(matches(dir, "a/**")).toEqual(["a/b/two.csv", "a/one.csv"]);
  });

  test("wildcards skip names starting with \".\"; a pattern written with a leading \".\" gets them", () => {
    expect(matches(dir, "*.csv")).toEqual(["top.csv"]);
    expect(matches(dir, ".*.csv")).toEqual([".hidden.csv"]);
    expect(matches(dir, ".hidden.csv")).toEqual([".hidden.csv"]);
    expect(matches(dir, ".git/*.csv")).toEqual([".git/four.csv"]);
    expect(matches(dir, "a/**/.*.csv")).toEqual(["a/b/.five.csv"]);
  });

  test("** never enters a directory whose name starts with \".\"", () => {
    expect(matches(dir, "**/four.csv")).toEqual([]);
    expect(matches(dir, "a/**/three.csv")).toEqual([]);
  });
});

describe("globFiles › symlinks", () => {
  const dir = tree(["real/a.csv", "real/sub/b.csv", "target.csv"]);
  symlinkSync(join(dir, "target.csv"), join(dir, "real/link.csv"));
  symlinkSync(join(dir, "real/sub"), join(dir, "real/linkdir"));
  symlinkSync(join(dir, "missing.csv"), join(dir, "real/broken.csv"));
  symlinkSync(join(dir, "real/loop"), join(dir, "real/loop")); // points at itself
  symlinkSync(join(dir, "real"), join(dir, "real/sub/up")); // a directory loop

  test("a symlink to a file matches, as the link's own path", () => {
    expect(matches(dir, "real/*.csv")).toEqual(["real/a.csv", "real/link.csv"]);
  });

  test("a symlink to a directory is followed by a segment that names or matches it, never by **", () => {
    expect(matches(dir, "real/linkdir/*.csv")).toEqual(["real/linkdir/b.csv"]);
    expect(matches(dir, "real/*/b.csv")).toEqual(["real/linkdir/b.csv", "real/sub/b.csv"]);
    expect(matches(dir, "real/**/*.csv")).toEqual(["real/a.csv", "real/link.csv", "real/sub/b.csv"]);
  });

  test("broken links and link loops match nothing", () => {
    expect(matches(dir, "real/broken.csv")).toEqual([]);
    expect(matches(dir, "real/loop")).toEqual([]);
    expect(matches(dir, "real/lo*")).toEqual([]);
  });
});

describe("globFiles › missing and unreadable directories", () => {
  test("a base directory that does not exist matches nothing", () => {
    expect(matches(tree(["a.csv"]), "data/*.csv")).toEqual([]);
  });

  test("a fixed path component that is a file is an error, not an empty match", () => {
    const dir = tree(["data.txt"]);
    expect(globError("data.txt/*.csv", dir)).toBe(`${join(dir, "data.txt")} is not a directory`);
    expect(globError("data.txt/x/a.csv", dir)).toBe(`${join(dir, "data.txt")} is not a directory`);
  });

  test("a directory that cannot be read is an error (EACCES, checked as an unprivileged user)", () => {
    const dir = tree(["ok/a.csv", "locked/b.csv"]);
    chmodSync(dir, 0o755);
    chmodSync(join(dir, "locked"), 0o000);
    const script = `import { globFiles } from ${JSON.stringify(resolve(import.meta.dir, "glob.ts"))};
try { console.log(JSON.stringify(globFiles("*/*.csv", ${JSON.stringify(dir)}))); } catch (e) { console.log(e.name + ": " + e.message); }`;
    // Root reads any directory; the check must run as someone the mode bits stop.
    const argv = process.getuid?.() === 0
      ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--no-install", "-e", script]
      : [process.execPath, "--no-install", "-e", script];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", cwd: "/" });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(`GlobError: cannot read directory ${join(dir, "locked")} (EACCES)`);
  });
});

describe("globFiles › malformed patterns are GlobErrors", () => {
  test.each([
    ["[z-a].csv", `empty range "z-a" in "[z-a].csv": the first character must not come after the second`],
    ["data/[ab.csv", `unclosed "[" in "data/[ab.csv"; expected [abc], [a-z] or [!a-z] (write \\[ for a literal bracket)`],
    ["{a,b.csv", `unclosed "{" at character 1 of "{a,b.csv"; expected {a,b}`],
    ["data/a**.csv", `"**" must be a whole path segment, as in data/**/*.csv; got "data/a**.csv"`],
    ["data/", `"data/" ends with "/": a glob names files, not directories`],
    ["a\\", `"a\\" ends with a lone "\\"`],
    ["", "empty pattern"],
    ["{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}{s,t}{u,v}", `"{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}{s,t}{u,v}" expands to more than 1024 alternatives`],
  ])("%p", (pattern, message) => {
    expect(globError(pattern)).toBe(message);
  });

  test("a malformed pattern is refused even where nothing exists to match", () => {
    expect(globError("nowhere/[z-a]")).toContain("empty range");
  });
});

test("globBase › the fixed directory prefix, absolute", () => {
  expect(globBase("data/in/*.csv", "/plan")).toBe("/plan/data/in");
  expect(globBase("data/{a,b}/*.csv", "/plan")).toBe("/plan/data");
  expect(globBase("/srv/x/**/*.csv", "/plan")).toBe("/srv/x");
  expect(globBase("*.csv", "/plan")).toBe("/plan");
});
