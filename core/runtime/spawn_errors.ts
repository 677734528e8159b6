/**
 * What went wrong when a program could not be started. posix_spawn answers
 * ENOENT both for a missing program and for a working directory that does
 * not exist, and EACCES for a file without execute permission and for a
 * directory; Bun and Deno word it differently again. So after a failure the
 * cwd and the program are looked at, and the error says which one is wrong,
 * the same under every runtime:
 *
 *   cannot start deploy.sh: working directory /srv/app does not exist
 *   cannot start deploy.sh: not found in PATH (/usr/local/bin:/usr/bin:/bin)
 *   cannot start ./deploy.sh: /srv/app/deploy.sh is not executable (no execute permission)
 */
import { constants } from "node:fs";
import { delimiter, resolve } from "node:path";
import process from "node:process";
import { nodeFsPromises } from "./lazy_builtins.ts";

/** The errno codes by which a spawn says it could not start the program. */
const START_FAILURES = new Set(["ENOENT", "EACCES", "ENOTDIR", "EPERM", "ENOEXEC", "ELOOP", "ENAMETOOLONG"]);

/** A PATH longer than this is cut in the message. */
const MAX_PATH_SHOWN = 300;

/**
 * An Error saying why `argv[0]` could not be started in `cwd`, keeping the
 * original errno `code`; `error` itself when it is not a failure to start.
 * `env` is the child's environment (its PATH is the one searched).
 */
export async function describeSpawnError(
  error: unknown,
  argv: readonly string[],
  cwd: string | undefined,
  env: Record<string, string | undefined> = process.env,
): Promise<unknown> {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !START_FAILURES.has(code)) return error;
  const program = argv[0] ?? "";
  const dir = resolve(cwd ?? process.cwd());
  const why = (await cwdProblem(dir)) ?? (await programProblem(program, dir, env.PATH ?? "")) ?? fallback(error, code);
  return Object.assign(new Error(`cannot start ${program}: ${why}`), { code });
}

/** What is wrong with the working directory, if anything. */
async function cwdProblem(dir: string): Promise<string | undefined> {
  let info;
  try {
    info = await nodeFsPromises().stat(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return `working directory ${dir} does not exist`;
    return `working directory ${dir} cannot be read (${code})`;
  }
  if (!info.isDirectory()) return `working directory ${dir} is not a directory`;
  if (!(await allowed(dir, constants.X_OK))) return `working directory ${dir} cannot be entered (permission denied)`;
  return undefined;
}

/** What is wrong with the program: a path is taken as given (relative to cwd), a bare name is searched in PATH. */
async function programProblem(program: string, dir: string, pathVar: string): Promise<string | undefined> {
  if (program === "") return "the program name is empty";
  if (program.includes("/")) {
    const file = resolve(dir, program);
    return (await fileProblem(file)) ?? (await interpreterProblem(file));
  }
  let firstProblem: string | undefined;
  for (const entry of pathVar.split(delimiter)) {
    // An empty PATH entry means the working directory, as execvp reads it.
    const file = resolve(dir, entry, program);
    if (!(await allowed(file, constants.F_OK))) continue;
    const problem = await fileProblem(file);
    if (problem === undefined) return await interpreterProblem(file);
    firstProblem ??= problem;
  }
  if (firstProblem) return firstProblem;
  const shown = pathVar.length > MAX_PATH_SHOWN ? `${pathVar.slice(0, MAX_PATH_SHOWN)}…` : pathVar;
  return pathVar === "" ? "not found: PATH is empty" : `not found in PATH (${shown})`;
}

/** Why `file` cannot be executed, or undefined when it is an executable file. */
async function fileProblem(file: string): Promise<string | undefined> {
  let info;
  try {
    info = await nodeFsPromises().stat(file);
  } catch {
    return `no such file ${file}`;
  }
  if (info.isDirectory()) return `${file} is a directory`;
  if (!info.isFile()) return `${file} is not a regular file`;
  if (!(await allowed(file, constants.X_OK))) return `${file} is not executable (no execute permission)`;
  return undefined;
}

/** An executable script whose `#!` interpreter is missing fails with ENOENT as if the script were: say so. */
async function interpreterProblem(file: string): Promise<string | undefined> {
  let head = "";
  try {
    const handle = await nodeFsPromises().open(file, "r");
    try {
      const buffer = new Uint8Array(256);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      head = new TextDecoder().decode(buffer.subarray(0, bytesRead));
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  if (!head.startsWith("#!")) return undefined;
  const interpreter = head.slice(2).split("\n")[0]!.trim().split(/\s+/)[0];
  if (!interpreter) return `${file} has an empty #! line`;
  const problem = await fileProblem(interpreter);
  return problem ? `the interpreter in its #! line cannot run: ${problem}` : undefined;
}

async function allowed(path: string, mode: number): Promise<boolean> {
  return await nodeFsPromises().access(path, mode).then(() => true, () => false);
}

/** Nothing wrong to be seen on disk (a noexec mount, a binary for another machine): the runtime's own words. */
function fallback(error: unknown, code: string): string {
  const message = error instanceof Error ? error.message : String(error);
  if (code === "ENOEXEC") return "not a program this system can run (exec format error)";
  if (code === "EACCES") return `permission denied (a filesystem mounted noexec?): ${message}`;
  return message;
}
