/**
 * gitCommit reads what `git rev-parse HEAD` would answer, from the files
 * alone: checked against real git on real repositories of each shape.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gitCommit } from "./git_commit.ts";
import { tempDir } from "./test_helpers.ts";

function git(cwd: string, ...args: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };
  const r = spawnSync("git", ["-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8", env });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

function repoWithCommits(): string {
  const dir = tempDir("fanout-git-");
  git(dir, "init", "-q");
  for (const n of [1, 2]) {
    writeFileSync(join(dir, "f"), String(n));
    git(dir, "add", "f");
    git(dir, "commit", "-q", "-m", `c${n}`);
  }
  return dir;
}

describe("gitCommit", () => {
  test("a branch checked out: its loose ref", () => {
    const dir = repoWithCommits();
    expect(gitCommit(dir)).toBe(git(dir, "rev-parse", "HEAD"));
  });

  test("a branch whose ref was packed", () => {
    const dir = repoWithCommits();
    git(dir, "pack-refs", "--all");
    expect(gitCommit(dir)).toBe(git(dir, "rev-parse", "HEAD"));
  });

  test("a detached HEAD", () => {
    const dir = repoWithCommits();
    git(dir, "checkout", "-q", "--detach", "HEAD~1");
    expect(gitCommit(dir)).toBe(git(dir, "rev-parse", "HEAD"));
  });

  test("a worktree: .git is a file, the branch lives in the common directory", () => {
    const dir = repoWithCommits();
    const wt = join(tempDir("fanout-git-wt-"), "wt");
    git(dir, "worktree", "add", "-q", "-b", "side", wt, "HEAD~1");
    expect(gitCommit(wt)).toBe(git(wt, "rev-parse", "HEAD"));
    expect(gitCommit(wt)).not.toBe(gitCommit(dir));
  });

  test("no repository, an empty .git, or a HEAD pointing outside refs/: undefined", () => {
    expect(gitCommit(tempDir())).toBeUndefined();
    const empty = tempDir();
    mkdirSync(join(empty, ".git"));
    expect(gitCommit(empty)).toBeUndefined();
    const odd = tempDir();
    mkdirSync(join(odd, ".git"));
    writeFileSync(join(odd, ".git/HEAD"), "ref: ../../etc/passwd\n");
    expect(gitCommit(odd)).toBeUndefined();
  });
});
