/**
 * shell: runs a command. `argv` runs the program directly (no shell, so no
 * quoting or injection surprises); `cmd` with `shell: true` goes through
 * /bin/sh -c. A non-zero exit fails the instance. `output: discard` drops
 * stdout and stderr (cheaper for thousands of short commands whose exit
 * status is all that matters); so does a run where nothing reads them. It takes no CPU or I/O
 * token unless the task's `resources:` says so: a command may be latency-bound.
 */
import { resolve } from "node:path";
import { defineModule } from "../core/sdk.ts";
import * as v from "../core/deps_valibot.ts";

/**
 * Text, or a number or boolean taken as its text: `argv: [echo, "{{ item }}"]`
 * renders a numeric item as a number (a lone reference keeps its type).
 */
const scalarText = (what: string) =>
  v.pipe(
    v.union([v.string(), v.number(), v.boolean()], `expected ${what} as strings`),
    v.transform((x) => String(x)),
  );

const ShellInput = v.pipe(
  v.strictObject({
    argv: v.optional(v.pipe(v.array(scalarText("argv entries"), "expected argv as a list"), v.minLength(1, "expected argv to name a program"))),
    cmd: v.optional(v.string("expected cmd as a string")),
    shell: v.optional(v.boolean("expected shell: true or false")),
    cwd: v.optional(v.string("expected cwd as a path")),
    env: v.optional(v.record(v.string(), scalarText("env values"), "expected env as a mapping of strings")),
    input: v.optional(v.string("expected input as text for stdin")),
    output: v.optional(v.picklist(["capture", "discard"], "expected output: capture or discard"), "capture"),
  }),
  v.check((i) => (i.argv === undefined) !== (i.cmd === undefined), "expected either argv: [program, args…] or cmd: \"…\" with shell: true"),
  v.check((i) => i.cmd === undefined || i.shell === true, "cmd runs through /bin/sh: add shell: true, or give argv instead"),
  v.check((i) => i.argv === undefined || i.shell !== true, "argv runs without a shell: drop shell: true, or give cmd instead"),
);

export default defineModule<v.InferOutput<typeof ShellInput>>({
  description: "Run a program from an argv list, or a command line through /bin/sh",
  parallelizationHint: "fully_parallel",
  input: ShellInput,
  // Template values in cmd are quoted for /bin/sh; argv needs none (no shell).
  shellCode: ["cmd"],
  async run(input, ctx) {
    const argv = input.cmd !== undefined ? ["/bin/sh", "-c", input.cmd] : input.argv!;
    // Output nobody will read (a quiet run without --json) goes to /dev/null: no pipes to make and drain.
    const output = input.output === "discard" || ctx.keepOutput === false ? "discard" : "capture";
    // On an ssh host the command runs there: cwd is a directory there (none: the login's home).
    const cwd = ctx.ssh ? input.cwd : input.cwd === undefined ? ctx.planDir : resolve(ctx.planDir, input.cwd);
    const r = await ctx.exec(argv, { cwd, env: input.env, input: input.input, output });
    const data = output === "discard"
      ? { exit_code: r.code, signal: r.signal }
      : { exit_code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
    if (r.code !== 0) {
      const why = r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
      const tail = r.stderr.trim().split("\n").slice(-1)[0];
      return { failed: true, error: `${argv[0]}: ${why}${tail ? `: ${tail}` : ""}`, changed: true, data };
    }
    if (r.truncated) ctx.log.warn("output exceeded the capture limit and was truncated");
    return { changed: true, data };
  },
});
