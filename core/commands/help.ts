/**
 * Help text for `fanout help [command]`, `--help` and bare `fanout`, built
 * from the command table in cli.ts. Written here rather than by cac so that
 * it can go to stderr (bare `fanout` is a usage error) and list only the
 * options each command really accepts.
 */

/** The parts of a cac option that help and option checking read. */
export interface CliOption {
  rawName: string;
  description: string;
  /** The option's name and aliases, camelCased and without dashes or `no-`. */
  names: string[];
}

/** The parts of a cac command that help and option checking read. */
export interface CliCommand {
  name: string;
  rawName: string;
  description: string;
  options: CliOption[];
  examples: unknown[];
}

/** Options that every command accepts. */
export const HELP_OPTION = { rawName: "-h, --help", description: "Show this help", names: ["h", "help"] };

/** Options of fanout itself, before any command. */
export const TOP_OPTIONS: CliOption[] = [
  { rawName: "-v, --version", description: "Show fanout's version, the commit it was built from, and the runtime", names: ["v", "version"] },
  HELP_OPTION,
];

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`.trimEnd()).join("\n");
}

/** The overview: every command, and fanout's own options. */
export function programHelp(summary: string, commands: CliCommand[]): string {
  return [
    summary,
    `Usage:\n  fanout <command> [options]`,
    `Commands:\n${table(commands.map((c) => [c.rawName, c.description]))}`,
    `Options:\n${table(TOP_OPTIONS.map((o) => [o.rawName, o.description]))}`,
    `Run "fanout help <command>" for the options of one command.`,
  ].join("\n\n") + "\n";
}

/** One command: usage, what it does, its options and examples. */
export function commandHelp(command: CliCommand): string {
  const options = [...command.options, HELP_OPTION];
  const examples = command.examples.filter((e): e is string => typeof e === "string");
  return [
    `Usage:\n  fanout ${command.rawName}${command.options.length > 0 ? " [options]" : ""}`,
    command.description,
    `Options:\n${table(options.map((o) => [o.rawName, o.description]))}`,
    ...(examples.length > 0 ? [`Examples:\n${examples.map((e) => `  ${e}`).join("\n")}`] : []),
  ].join("\n\n") + "\n";
}
