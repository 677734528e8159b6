/**
 * The text of every input the whole-process benchmark hands to a tool: fanout
 * plans, Makefiles, the pool's command lists and the C files to compile.
 * Pure functions of their arguments, so each can be tested.
 */

/** JSON strings are YAML flow scalars: quoting without a YAML writer. */
const q = (s: string) => JSON.stringify(s);

export interface ShellPlan {
  name: string;
  argv: string[];
  /** A file of items (one per line) beside the plan; without it, one instance. */
  itemsFile?: string;
  /** Inline items, for a short list. */
  items?: string[];
  /** The fork limit; without it, fanout's default. */
  parallelism?: number;
  /** The task's `resources:` need. */
  cpu?: number;
}

/** A one-task fanout plan running `argv` through the shell module, defaults everywhere else. */
export function shellPlan(p: ShellPlan): string {
  if (p.argv.length === 0) throw new RangeError("shellPlan: argv must not be empty");
  if (p.itemsFile !== undefined && p.items !== undefined) throw new RangeError("shellPlan: itemsFile or items, not both");
  const lines = ["version: 1", `name: ${q(p.name)}`];
  if (p.parallelism !== undefined) lines.push(`parallelism: ${p.parallelism}`);
  lines.push("tasks:", `  - name: ${q(p.name)}`, "    module: shell");
  if (p.itemsFile !== undefined) lines.push(`    items_from: { file: ${q(p.itemsFile)} }`);
  if (p.items !== undefined) lines.push(`    items: [${p.items.map(q).join(", ")}]`);
  if (p.cpu !== undefined) lines.push(`    resources: { cpu: ${p.cpu} }`);
  lines.push(`    with: { argv: [${p.argv.map(q).join(", ")}] }`);
  return lines.join("\n") + "\n";
}

/** `count` lines, the item numbers 0 … count − 1: fanout's items file. */
export function itemLines(count: number): string {
  return Array.from({ length: count }, (_, i) => `${i}\n`).join("");
}

/** The pool's list: the same command on `count` lines. */
export function commandLines(argv: string[], count: number): string {
  if (argv.some((a) => a === "" || /\s/.test(a))) throw new RangeError(`commandLines: the pool splits on spaces; got ${JSON.stringify(argv)}`);
  return `${argv.join(" ")}\n`.repeat(count);
}

/** A Makefile of `count` phony targets, each running `command` silently; `make -jN` runs them N at once. */
export function phonyMakefile(command: string, count: number): string {
  const targets = Array.from({ length: count }, (_, i) => `t${i}`).join(" ");
  const rules = Array.from({ length: count }, (_, i) => `t${i}:\n\t@${command}\n`).join("");
  return `all: ${targets}\n.PHONY: all ${targets}\n${rules}`;
}

/** A Makefile compiling `src/<name>.c` to `<objDir>/<name>.o` for each name, as `gcc -O2 -c`. */
export function compileMakefile(names: string[], objDir: string): string {
  const objects = names.map((n) => `${objDir}/${n}.o`).join(" ");
  return `all: ${objects}\n${objDir}/%.o: src/%.c\n\t@gcc -O2 -c $< -o $@\n`;
}

/**
 * A small C file: gcc -O2 takes a few tens of milliseconds on it: `functions` small
 * functions with loops to optimise, constants varied by `seed` so no two
 * files are alike.
 */
export function cSource(seed: number, functions = 2): string {
  const out = [`/* generated for the whole-process benchmark, seed ${seed} */`, "#include <stdint.h>"];
  for (let f = 0; f < functions; f++) {
    const k = seed * 131 + f * 7 + 3;
    out.push(`uint64_t f${f}(const uint64_t *v, int n) {
  uint64_t acc = ${k}u;
  for (int i = 0; i < n; i++) {
    acc ^= v[i] * ${k * 2 + 1}u + (acc << ${(k % 13) + 1});
    if (acc % ${(k % 17) + 2}u == 0) acc += v[(i + ${k % 5}) % n];
    for (int j = 0; j < ${(k % 4) + 2}; j++) acc = (acc >> 3) | (acc << 61);
  }
  return acc;
}`);
  }
  out.push(`uint64_t all(const uint64_t *v, int n) {\n  return ${Array.from({ length: functions }, (_, f) => `f${f}(v, n)`).join(" ^ ")};\n}`);
  return out.join("\n") + "\n";
}
