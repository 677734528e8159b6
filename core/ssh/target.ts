/**
 * The vocabulary shared by everything that reaches a host over ssh (running
 * commands, copying files, probing): where the host is, and how one argv
 * becomes the one command line the remote shell reads.
 *
 * fanout drives the system OpenSSH client (`ssh`, `scp`/`sftp`) rather than
 * a library: users' ~/.ssh/config, agents, jump hosts, certificates and
 * known_hosts then work exactly as they do in their shell.
 */
import { shellQuote } from "../plan/shell_quote.ts";

/** One ssh host as the client needs it. */
export interface SshTarget {
  /** The host's name in the plan: what `{{ host }}` and events say. */
  name: string;
  /** Address or ssh_config alias to connect to (default: the name). */
  address: string;
  port?: number;
  user?: string;
  /** Extra `-o` options (`ssh_options:`), as "Key=Value". */
  options: string[];
  /** An ssh_config file (`--ssh-config`), passed as `-F`. */
  configFile?: string;
  /** The ControlMaster socket this run multiplexes the host's sessions over. */
  controlPath?: string;
}

/** `user@address` (or the address alone). */
export function destination(target: SshTarget): string {
  return target.user ? `${target.user}@${target.address}` : target.address;
}

/**
 * The options every ssh, scp and sftp call to this host shares. BatchMode:
 * a prompt for a password or a host key would hang a parallel run.
 */
export function sshOptions(target: SshTarget): string[] {
  const args: string[] = [];
  if (target.configFile) args.push("-F", target.configFile);
  args.push("-o", "BatchMode=yes");
  for (const option of target.options) args.push("-o", option);
  if (target.controlPath) args.push("-o", `ControlPath=${target.controlPath}`);
  return args;
}

/**
 * The remote command line for an argv: ssh joins its arguments with spaces
 * and hands them to the login shell, so each word is quoted for sh first and
 * arrives byte for byte (spaces, quotes, `$`, `;`, newlines).
 */
export function remoteCommand(argv: readonly string[]): string {
  return argv.map((word) => (word === "" ? "''" : shellQuote(word))).join(" ");
}

/** `ssh [options] -p PORT dest -- 'remote command'` for an argv run on the target. */
export function sshArgv(target: SshTarget, argv: readonly string[], extra: readonly string[] = []): string[] {
  const port = target.port !== undefined ? ["-p", String(target.port)] : [];
  return ["ssh", ...sshOptions(target), ...port, ...extra, destination(target), "--", remoteCommand(argv)];
}
