/**
 * `fanout completion bash`: a bash completion script, generated from the
 * same command table as the help, so a new command or option completes
 * without anyone editing a script. zsh loads it through bashcompinit.
 */
import { UsageError } from "../errors.ts";
import { type CliCommand, type CliOption, HELP_OPTION, TOP_OPTIONS } from "./help.ts";

export const SHELLS = ["bash"] as const;

/** "-p, --parallelism <n>" → ["-p", "--parallelism"]. */
function flags(option: Pick<CliOption, "rawName">): string[] {
  return option.rawName.split(/[ ,]+/).filter((word) => word.startsWith("-"));
}

/** A word list for compgen -W: flags and command names only, so no quoting is needed. */
function words(list: string[]): string {
  for (const w of list) if (!/^[A-Za-z0-9_-]+$/.test(w)) throw new Error(`Internal error: ${JSON.stringify(w)} cannot go into a completion word list`);
  return list.join(" ");
}

function bash(commands: CliCommand[]): string {
  const names = commands.map((c) => c.name);
  const cases = commands.map((c) => {
    const options = words([...c.options, HELP_OPTION].flatMap(flags));
    // What a command's first argument may be, where it is a closed set.
    const args = c.name === "help" ? names : c.name === "completion" ? [...SHELLS] : [];
    return `    ${c.name}) opts="${options}"; args="${words(args)}" ;;`;
  });
  return `# fanout bash completion: source <(fanout completion bash)
_fanout() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts="" args=""
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${words([...names, ...TOP_OPTIONS.flatMap(flags)])}" -- "$cur"))
    return 0
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join("\n")}
    *) return 0 ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ -n "$args" ] && [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=($(compgen -W "$args" -- "$cur"))
  fi
  # Anything else (a plan, a path): -o default completes file names.
  return 0
}
complete -o default -F _fanout fanout
`;
}

/** The completion script for `shell`; a UsageError for a shell not offered. */
export function completionScript(shell: string, commands: CliCommand[]): string {
  if (shell === "bash") return bash(commands);
  throw new UsageError(`completion: no script for shell "${shell}"; expected one of: ${SHELLS.join(", ")} (zsh: load the bash one with bashcompinit)`);
}
