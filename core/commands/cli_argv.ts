/**
 * The command line as cac can parse it, and back. Its parser (mri) knows
 * boolean options only by their camelCased names (cacjs/cac#169), so in
 * `fanout run --dry-run plan.yml` it would take plan.yml as the value of
 * --dry-run: long option names are handed to it camelCased. It also drops a
 * lone `-` (`fanout run -`: the plan on stdin), which therefore crosses the
 * parser as a stand-in that no real argument can be.
 */

const DASH = "\0-";

/** cac's camelCase of an option name (`fail-fast` → `failFast`). */
export function camelOptionName(name: string): string {
  return name.replace(/([a-z])-([a-z])/g, (_, a: string, b: string) => a + b.toUpperCase());
}

/** argv → what to give cac.parse (after "node", "fanout"). */
export function toCacArgv(argv: readonly string[]): string[] {
  const end = argv.includes("--") ? argv.indexOf("--") : argv.length;
  return argv.map((arg, i) => {
    if (i >= end) return arg;
    if (arg === "-") return DASH;
    if (!arg.startsWith("--")) return arg;
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const negated = name.startsWith("no-");
    return `--${negated ? "no-" : ""}${camelOptionName(negated ? name.slice(3) : name)}${eq === -1 ? "" : arg.slice(eq)}`;
  });
}

/** cac's positional arguments → what the user typed. */
export function fromCacArgs(args: readonly string[]): string[] {
  return args.map((a) => (a === DASH ? "-" : a));
}
