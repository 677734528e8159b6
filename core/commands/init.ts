/**
 * `fanout init [dir]`: a starting point that runs and type-checks as it is —
 * a plan (with the schema comment editors read), the plan's JSON Schema, a
 * typed plugin, fanout.d.ts, the tsconfig.json and package.json that check
 * the plugin with `tsc`, and the deno.json that checks it with `deno check`. Nothing is overwritten: if any of the files
 * exists, nothing is written.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import process from "node:process";
import { join, relative, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { FANOUT_DTS } from "../sdk_types.generated.ts";
import { schemaText } from "./schema.ts";

const PLAN = `# yaml-language-server: $schema=fanout.schema.json
# Run it: fanout run plan.yml      What it would do: fanout run plan.yml --dry-run
version: 1
hosts: [localhost]
plugins:
  hello: ./plugins/hello.ts
tasks:
  - name: greet
    module: hello
    items: [world, fanout]
    with: { name: "{{ item }}" }
  - name: done
    module: shell
    with: { argv: [echo, "greeted {{ host }}"] }
`;

const PLUGIN = `/**
 * A plugin: says hello. \`fanout check plugins/hello.ts\` shows what fanout sees in it.
 */
import { defineModule, v } from "fanout";

export default defineModule({
  description: "Says hello to a name",
  // Any number at once; see docs/plugins.md for host_exclusive, rate_limited, global_exclusive.
  parallelizationHint: "fully_parallel",
  resources: { cpu: 1 },
  input: v.strictObject({ name: v.pipe(v.string(), v.description("Who to greet")) }),
  async run(input, ctx) {
    const r = await ctx.exec(["echo", \`hello \${input.name} from \${ctx.host}\`]);
    ctx.log.info(r.stdout.trim());
    return { changed: false, data: { said: r.stdout.trim() } };
  },
});
`;

const TSCONFIG = `${JSON.stringify({
  compilerOptions: {
    target: "ES2023",
    module: "ESNext",
    moduleResolution: "bundler",
    strict: true,
    noEmit: true,
    // fanout.d.ts holds every type a plugin sees: nothing from node_modules/@types.
    types: [],
  },
  include: ["plugins", "fanout.d.ts"],
}, null, 2)}\n`;

// fanout.d.ts is self-contained: type-checking needs TypeScript and nothing else.
const PACKAGE = `${JSON.stringify({
  private: true,
  type: "module",
  scripts: { check: "tsc --noEmit -p ." },
  devDependencies: { typescript: "5.9.3" },
}, null, 2)}\n`;

// For \`deno check\`: "fanout" is the declaration file, which holds every type it needs.
const DENO = `${JSON.stringify({
  compilerOptions: { types: ["./fanout.d.ts"] },
  imports: { fanout: "./fanout.d.ts" },
}, null, 2)}\n`;

/** What init writes, by path relative to the folder. */
export const INIT_FILES: Readonly<Record<string, () => string>> = {
  "plan.yml": () => PLAN,
  "fanout.schema.json": schemaText,
  "plugins/hello.ts": () => PLUGIN,
  "fanout.d.ts": () => FANOUT_DTS,
  "tsconfig.json": () => TSCONFIG,
  "package.json": () => PACKAGE,
  "deno.json": () => DENO,
};

/** Writes the files into `dir`; returns their paths. Any of them already there is a UsageError, and nothing is written. */
export function initCommand(dir = "."): string[] {
  const folder = resolve(dir);
  const paths = Object.keys(INIT_FILES).map((name) => join(folder, name));
  const present = paths.filter((p) => existsSync(p));
  if (present.length > 0) {
    const names = present.map((p) => relative(process.cwd(), p) || p).join(", ");
    throw new UsageError(`not overwriting what is there: ${names} (init into an empty folder: fanout init DIR)`);
  }
  try {
    for (const [name, text] of Object.entries(INIT_FILES)) {
      mkdirSync(join(folder, name, ".."), { recursive: true });
      writeFileSync(join(folder, name), text(), { flag: "wx" });
    }
  } catch (e) {
    throw new UsageError(`cannot write into ${dir}: ${(e as Error).message}`);
  }
  return paths;
}
