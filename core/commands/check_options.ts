/**
 * Refuses options a command does not declare. cac would accept any global
 * option anywhere (`fanout run plan.yml -v` read as "version" and ran
 * nothing), so each command is checked against its own list, and the
 * message spells the option as it was typed and suggests the one meant.
 */
import { UsageError } from "../errors.ts";
import { closest } from "../suggest.ts";
import { camelOptionName } from "./cli_argv.ts";
import type { CliOption } from "./help.ts";

/** What users of other tools mean by a short flag fanout does not have (make, ansible, rsync). */
const CONVENTIONAL: Record<string, string> = { v: "--verbose", n: "--dry-run", j: "--parallelism", k: "--keep-going" };

/**
 * Throws a UsageError for the first option in `parsed` (cac's camelCased
 * result) that none of `allowed` declares. `argv` is the command line as
 * typed; `command` the command's name, if one was given.
 */
export function checkOptions(parsed: Record<string, unknown>, allowed: readonly CliOption[], argv: readonly string[], command?: string): void {
  const known = new Set(allowed.flatMap((o) => o.names));
  for (const key of Object.keys(parsed)) {
    if (key === "--" || known.has(key)) continue;
    const typed = spelling(key, argv);
    throw new UsageError(`unknown option ${typed}${suggestion(typed, allowed, command)}`);
  }
}

/** The option as the user typed it: `--dry-rnu`, `--no-colour`, `-v`. */
function spelling(key: string, argv: readonly string[]): string {
  const end = argv.indexOf("--");
  for (const arg of end === -1 ? argv : argv.slice(0, end)) {
    if (!arg.startsWith("--")) continue;
    const name = arg.slice(2).split("=")[0]!;
    const bare = name.startsWith("no-") ? name.slice(3) : name;
    if (camelOptionName(bare.split(".")[0]!) === key) return `--${name}`;
  }
  return key.length === 1 ? `-${key}` : `--${key}`;
}

function suggestion(typed: string, allowed: readonly CliOption[], command: string | undefined): string {
  const versionHint = command ? " (fanout's version: fanout --version)" : "";
  if (typed === "--version") return versionHint;
  const longs = allowed.flatMap((o) => o.rawName.split(",").map((part) => part.trim().split(" ")[0]!)).filter((f) => f.startsWith("--"));
  if (typed.startsWith("--")) {
    const hit = closest(typed, longs);
    return hit ? ` (did you mean ${hit}?)` : "";
  }
  const letter = typed.slice(1);
  const meant = CONVENTIONAL[letter];
  if (meant && longs.includes(meant)) return ` (did you mean ${meant}?)`;
  const starting = longs.filter((f) => f.startsWith(`--${letter}`));
  if (starting.length === 1) return ` (did you mean ${starting[0]}?)`;
  return letter === "v" ? versionHint : "";
}
