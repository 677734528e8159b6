/**
 * fanout against damaged plans: seeded mutants (mutate.ts) of every plan
 * under fixtures/ and examples/.
 *
 * - COUNT of them go to the compiled binary, `fanout run - --dry-run` with the
 *   plan on stdin, several processes at once. Each must end with exit 0, 1
 *   or 2, say what is wrong in one `error:` line per problem, and never exit
 *   70, print a stack trace or hang. Half also use --json: every stdout line
 *   must parse, and a refused plan must leave an `error` event.
 * - LOADER_COUNT more go through the same loader and dry run in one Bun
 *   process (drive.ts), where a mutant costs far less than a process:
 *   none may be an internal error (exit 70), a message of several lines or a
 *   stack trace, and a mutant that stalls the driver fails the test.
 *
 *   FANOUT_FUZZ_COUNT=10000 FANOUT_FUZZ_LOADER_COUNT=50000 FANOUT_FUZZ_SEED=7 bun test core/plan/fuzz
 *
 * The seed is printed. A failing mutant is written to a file named in the
 * failure message; feed it back with `fanout run - --dry-run < FILE` from the
 * folder named beside it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { compiledBinary } from "../../runtime/fanout_runtimes.ts";
import { ROOT } from "../../runtime/plugin_fixtures.ts";
import { tempDir } from "../../test_helpers.ts";
import type { DriveLine } from "./drive.ts";
import { type Mutant, mutant } from "./mutate.ts";

/** Thousands through the real binary, as a user would feed them; a process costs 50–200 ms of CPU here. */
const COUNT = Number(process.env.FANOUT_FUZZ_COUNT ?? 2000);
const LOADER_COUNT = Number(process.env.FANOUT_FUZZ_LOADER_COUNT ?? 2000);
/** The driver's mutants are numbered from here, so that they differ from the binary's. */
const DRIVER_FROM = 1_000_000;
const SEED = Number(process.env.FANOUT_FUZZ_SEED ?? 20261130);
/** Processes at once: enough to keep two cores busy while others wait on their pipes. */
const CONCURRENCY = 4;
/** Far beyond any honest dry run on a loaded machine; a mutant that takes this long hangs. */
const TIMEOUT_MS = 60_000;

/** Every plan under fixtures/ and examples/, relative to the project root. */
function seedPlans(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== "node_modules") walk(path);
      else if (/\.ya?ml$/.test(entry.name)) found.push(path);
    }
  };
  walk("fixtures");
  walk("examples");
  return found.sort();
}

/**
 * fixtures/ and examples/ copied two levels down into a scratch folder, with
 * node_modules beside them (for a plugin's own imports): relative plugin
 * paths, globs and item files in a mutant reach only these copies.
 */
function scratchCopy(): { scratch: string; work: string } {
  const scratch = tempDir("fanout-fuzz-");
  const work = join(scratch, "a", "b");
  mkdirSync(work, { recursive: true });
  for (const dir of ["fixtures", "examples"]) cpSync(join(ROOT, dir), join(work, dir), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(work, "node_modules"));
  mkdirSync(join(scratch, "tmp"));
  return { scratch, work };
}

interface Outcome {
  status: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

function runDry(binary: string, plan: Uint8Array, cwd: string, json: boolean, env: Record<string, string>): Promise<Outcome> {
  return new Promise((done) => {
    const args = ["run", "-", "--dry-run", ...(json ? ["--json"] : [])];
    const child = spawn(binary, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, TIMEOUT_MS);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    // fanout may refuse the plan before it has read all of it.
    child.stdin.on("error", () => {});
    child.stdin.end(plan);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      done({ status, signal, timedOut, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}

/** A stack frame, or a path inside fanout (or the packages it bundles). */
const INTERNALS = /^\s+at |node_modules|\$bunfs|\b(core|plugins)\/[\w/]+\.ts:\d+|\bcli\.ts:\d+/m;

/** What is wrong with one of the driver's answers, or undefined if nothing is. */
function driverProblem(line: DriveLine): string | undefined {
  if (line.kind === "internal") return "an internal error (exit 70)";
  if (line.kind !== "ok" && line.messages.length === 0) return "refused without a message";
  if (line.messages.some((m) => m.includes("\n"))) return "a message of several lines";
  if (line.messages.some((m) => INTERNALS.test(m))) return "a stack trace or an internal path in a message";
  return undefined;
}

/** What is wrong with one outcome of the binary, or undefined if nothing is. */
function problemWith(o: Outcome, json: boolean): string | undefined {
  if (o.timedOut) return `no exit within ${TIMEOUT_MS} ms (killed)`;
  if (o.status === null) return `killed by ${o.signal}`;
  if (o.status === 70) return "exit 70 (internal error)";
  if (![0, 1, 2].includes(o.status)) return `exit ${o.status}`;
  if (INTERNALS.test(o.stderr)) return "stderr shows a stack trace or an internal path";
  const lines = o.stderr.split("\n").filter((l) => l !== "");
  if (o.status !== 0 && !/^error: \S.{10,}/.test(lines[0] ?? "")) return "non-zero exit without an `error: …` first line on stderr";
  const stray = lines.find((l) => !/^(error|warning): /.test(l));
  if (stray !== undefined) return `a stderr line that is not one whole message: ${JSON.stringify(stray.slice(0, 200))}`;
  if (json) {
    const events: Record<string, unknown>[] = [];
    for (const line of o.stdout.split("\n").filter((l) => l !== "")) {
      try {
        events.push(JSON.parse(line));
      } catch {
        return `a stdout line that is not JSON: ${JSON.stringify(line.slice(0, 200))}`;
      }
    }
    if (o.status === 2 && !events.some((e) => e.type === "error" && e.exit_code === 2 && typeof e.message === "string")) {
      return "exit 2 without an error event on stdout";
    }
    if (o.status === 0 && events[0]?.type !== "plan") return "exit 0 without the plan line first on stdout";
  }
  return undefined;
}

/** The "\n"-separated lines of a stream, as they arrive. */
async function* lines(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
  stream.setEncoding("utf8"); // a character split between chunks stays whole
  let rest = "";
  for await (const chunk of stream) {
    const parts = (rest + String(chunk)).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest !== "") yield rest;
}

/** Runs `jobs` at most `limit` at a time. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** Writes a failing mutant where it can be read back; returns the line that names it. */
function keep(m: Mutant, i: number, plan: string, cwd: string, work: string, problem: string): string {
  const file = join(tempDir("fanout-fuzz-fail-"), `mutant-${SEED}-${i}.yml`);
  writeFileSync(file, m.bytes);
  return `mutant ${i} of ${plan} (${m.kinds.join(", ")}): ${problem}\n  plan: ${file} (run from ${relative(work, cwd) || "."} of a copy of fixtures/ and examples/)`;
}

describe("fanout run - --dry-run › mutated plans", () => {
  const { scratch, work } = scratchCopy();
  const plans = seedPlans();
  const sources = plans.map((p) => readFileSync(join(ROOT, p)));
  const cwdOf = (i: number) => join(work, plans[i % plans.length]!, "..");
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test("the corpus: every plan under fixtures/ and examples/", () => {
    expect(plans).toContain("examples/hello.yml");
    expect(plans).toContain("fixtures/all_hints.yml");
  });

  test(`${COUNT} mutants through the compiled binary end with 0, 1 or 2 and a message (seed ${SEED})`, async () => {
    const binary = compiledBinary();
    // Nothing from the machine's environment (a HOME, a TMPDIR, colours) changes what fanout does here.
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch, TMPDIR: join(scratch, "tmp"), NO_COLOR: "1" };
    console.log(`fuzz: ${COUNT} mutants of ${plans.length} plans through the binary, seed ${SEED} (FANOUT_FUZZ_SEED, FANOUT_FUZZ_COUNT)`);
    const jobs = Array.from({ length: COUNT }, (_, i) => async () => {
      const m = mutant(sources[i % plans.length]!, SEED, i);
      const json = i % 2 === 1;
      const outcome = await runDry(binary, m.bytes, cwdOf(i), json, env);
      return { i, m, json, outcome, problem: problemWith(outcome, json) };
    });
    const results = await pool(jobs, CONCURRENCY);
    const codes: Record<string, number> = {};
    for (const r of results) codes[String(r.outcome.status)] = (codes[String(r.outcome.status)] ?? 0) + 1;
    console.log(`fuzz: exit codes ${JSON.stringify(codes)}`);

    // One example of each kind of problem (the first line of its stderr tells them apart).
    const failures = results.filter((r) => r.problem !== undefined);
    const examples = new Map<string, (typeof failures)[number]>();
    for (const r of failures) {
      const kind = `${r.problem} ${r.outcome.stderr.split("\n")[0]!.replace(/\d+/g, "N").slice(0, 120)}`;
      if (!examples.has(kind)) examples.set(kind, r);
    }
    const reports = [...examples.values()].slice(0, 10).map((r) =>
      `${keep(r.m, r.i, plans[r.i % plans.length]!, cwdOf(r.i), work, `${r.problem}${r.json ? " (--json)" : ""}`)}\n  stderr: ${r.outcome.stderr.slice(0, 400)}`
    );
    expect(failures.length === 0 ? "" : `${failures.length} of ${COUNT} mutants failed; one of each kind:\n${reports.join("\n")}`).toBe("");
  }, 900_000);

  test(`${LOADER_COUNT} more mutants through the loader and dry run in one process: no internal error, no stack trace, no stall (seed ${SEED})`, async () => {
    const count = LOADER_COUNT;
    console.log(`fuzz: ${count} mutants through the loader in one process, from ${DRIVER_FROM}, seed ${SEED}`);
    const child = spawn(process.execPath, ["--no-install", join(import.meta.dir, "drive.ts"), work, String(SEED), String(DRIVER_FROM), String(count), ...plans], {
      cwd: scratch,
      env: { ...process.env, TMPDIR: join(scratch, "tmp") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const problems: string[] = [];
    let done = DRIVER_FROM;
    let stalled = false;
    // A mutant that takes this long stalls the driver: kill it, and blame the mutant it was on.
    let watchdog = setTimeout(() => ((stalled = true), child.kill("SIGKILL")), TIMEOUT_MS);
    // Lines split on "\n" only: readline would split at a U+2028 inside a message too.
    for await (const text of lines(child.stdout)) {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => ((stalled = true), child.kill("SIGKILL")), TIMEOUT_MS);
      const line = JSON.parse(text) as DriveLine;
      done = line.i + 1;
      const problem = driverProblem(line);
      if (problem !== undefined && problems.length < 10) {
        const m = mutant(sources[line.i % plans.length]!, SEED, line.i);
        problems.push(`${keep(m, line.i, plans[line.i % plans.length]!, cwdOf(line.i), work, problem)}\n  messages: ${line.messages.join(" | ").slice(0, 400)}`);
      }
    }
    clearTimeout(watchdog);
    const status = await new Promise<number | null>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once("close", resolve)));
    if (stalled) problems.push(keep(mutant(sources[done % plans.length]!, SEED, done), done, plans[done % plans.length]!, cwdOf(done), work, `no answer within ${TIMEOUT_MS} ms (killed)`));
    else if (status !== 0 || done !== DRIVER_FROM + count) problems.push(`the driver ended with ${status} after mutant ${done - 1}: ${stderr.slice(0, 600)}`);
    expect(problems.join("\n")).toBe("");
  }, 900_000);

  test("a dry run starts no command and copies no file, though it imports the plan's plugins (their top-level code runs)", () => {
    const dir = tempDir("fanout-fuzz-dry-");
    writeFileSync(join(dir, "plugin.ts"), `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(join(dir, "imported"))}, "");\nexport default async function run() { return {}; }\n`);
    writeFileSync(join(dir, "data.txt"), "x");
    writeFileSync(join(dir, "plan.yml"), `version: 1
plugins: { mine: ./plugin.ts }
tasks:
  - { name: touch, module: shell, with: { argv: [touch, ${join(dir, "ran")}] } }
  - { name: copy, module: copy, with: { src: data.txt, dest_dir: copied/ } }
  - { name: mine, module: mine }
`);
    const r = spawnSync(compiledBinary(), ["run", "plan.yml", "--dry-run"], { cwd: dir, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("touch[localhost]");
    expect([existsSync(join(dir, "ran")), existsSync(join(dir, "copied")), existsSync(join(dir, "imported"))]).toEqual([false, false, true]);
    rmSync(dir, { recursive: true, force: true });
  });
});
