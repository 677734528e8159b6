/**
 * The commit a source checkout is at, read from its .git files: HEAD, then
 * the branch's loose ref or packed-refs. No `git` process, so it costs
 * `fanout --version` a few file reads. Understands worktrees and submodules
 * (a `.git` file pointing elsewhere, a `commondir` file); anything else it
 * does not recognise gives undefined, never an exception.
 */
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const HASH = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** The full hash HEAD points at in the checkout at `repoDir`, or undefined. */
export function gitCommit(repoDir: string): string | undefined {
  try {
    const gitDir = findGitDir(repoDir);
    if (!gitDir) return undefined;
    const head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    if (HASH.test(head)) return head; // detached
    const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
    if (!ref || ref.split("/").includes("..")) return undefined;
    const common = commonDir(gitDir);
    for (const dir of new Set([gitDir, common])) {
      const loose = readOrUndefined(join(dir, ref))?.trim();
      if (loose && HASH.test(loose)) return loose;
    }
    return packedRef(readOrUndefined(join(common, "packed-refs")) ?? "", ref);
  } catch {
    return undefined;
  }
}

/** `.git` is the git directory itself, or a file `gitdir: <path>` (worktree, submodule). */
function findGitDir(repoDir: string): string | undefined {
  const dotGit = join(repoDir, ".git");
  if (statSync(dotGit, { throwIfNoEntry: false })?.isDirectory()) return dotGit;
  const pointer = readOrUndefined(dotGit);
  const target = pointer && /^gitdir: (.+)$/m.exec(pointer)?.[1]?.trim();
  return target ? resolve(repoDir, target) : undefined;
}

/** A worktree's git directory keeps HEAD; branches live in the common one. */
function commonDir(gitDir: string): string {
  const pointer = readOrUndefined(join(gitDir, "commondir"))?.trim();
  return pointer ? resolve(gitDir, pointer) : gitDir;
}

function packedRef(text: string, ref: string): string | undefined {
  for (const line of text.split("\n")) {
    const [hash, name] = line.trim().split(" ");
    if (name === ref && hash && HASH.test(hash)) return hash;
  }
  return undefined;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
