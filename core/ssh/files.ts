/**
 * Files on an ssh host: what a remote path is (kind, mode, size, digest),
 * and moving bytes there and back with the system's `sftp` through the same
 * options (and ControlPath) as every other ssh call to the host.
 *
 * Remote shell work runs as `sh -c SCRIPT fanout ARG…`: the paths travel as
 * positional arguments quoted by remoteCommand, never spliced into the
 * script, so no file name can be read as shell code. sftp reads its batch
 * from stdin, where each path is double-quoted (sftpQuote).
 *
 * A relative remote path is relative to the remote user's home directory,
 * as with ssh and sftp themselves; `~` is not expanded.
 */
import { TaskFailure } from "../sdk.ts";
import { exec, type ExecResult } from "../runtime/spawn.ts";
import { destination, type SshTarget, sshArgv, sshOptions } from "./target.ts";

/** The coreutils tool that prints each digest algorithm the file modules offer. */
export const DIGEST_TOOLS: Readonly<Record<string, string>> = {
  sha256: "sha256sum",
  sha512: "sha512sum",
  blake2b512: "b2sum",
  sha1: "sha1sum",
  md5: "md5sum",
};

/** `web1:/srv/a.txt`: how messages name a remote file. */
export function remoteName(target: SshTarget, path: string): string {
  return `${target.name}:${path}`;
}

/**
 * A path as one argument of an sftp batch command: in double quotes, with
 * `\` and `"` escaped (sftp escapes glob characters inside quotes itself).
 * A newline cannot be written in a batch, which is line by line.
 */
export function sftpQuote(path: string): string {
  if (/[\n\r]/.test(path)) throw new TaskFailure(`${JSON.stringify(path)}: sftp cannot transfer a path that holds a newline`);
  // A leading "-" would be read as a flag of put/get.
  const safe = path.startsWith("-") ? `./${path}` : path;
  return `"${safe.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `sftp [options] -P PORT -b - dest`: a batch on stdin, stopping at the first command that fails. */
export function sftpArgv(target: SshTarget): string[] {
  const port = target.port !== undefined ? ["-P", String(target.port)] : [];
  // sftp splits host from path at ":", so an IPv6 address goes in brackets.
  const host = target.address.includes(":") ? `[${target.address}]` : target.address;
  const dest = target.user ? `${target.user}@${host}` : host;
  return ["sftp", ...sshOptions(target), ...port, "-q", "-b", "-", dest];
}

/** ssh exits 255 when it could not reach or log in to the host; a remote program's own failure is anything else. */
function checkSsh(target: SshTarget, what: string, r: ExecResult): ExecResult {
  if (r.code === 255) throw new TaskFailure(`ssh ${destination(target)} (${target.name}): ${r.stderr.trim() || "connection failed"}`);
  if (r.code !== 0) throw new TaskFailure(`${what} on ${target.name} failed (exit ${r.code ?? r.signal}): ${r.stderr.trim()}`);
  return r;
}

/** Runs `sh -c script` on the host with `args` as $1, $2, …; resolves with its stdout. */
export async function remoteScript(target: SshTarget, what: string, script: string, args: readonly string[], signal: AbortSignal): Promise<string> {
  const r = await exec(sshArgv(target, ["sh", "-c", script, "fanout", ...args]), { signal });
  return checkSsh(target, what, r).stdout;
}

/** Runs sftp batch commands (one per line) against the host. */
export async function sftpBatch(target: SshTarget, what: string, commands: readonly string[], signal: AbortSignal): Promise<void> {
  const r = await exec(sftpArgv(target), { signal, input: commands.map((c) => `${c}\n`).join("") });
  // sftp exits 1 both for a lost connection and for a failed command: its stderr says which.
  checkSsh(target, what, r);
}

export interface RemoteFile {
  /** Permission bits (as `stat -c %a`). */
  mode: number;
  bytes: number;
  digest: string;
}

// $1 path, $2 digest tool. Kind first, so a FIFO is never opened for reading.
const FACTS = `[ -e "$1" ] || { echo missing; exit 0; }
[ -f "$1" ] || { echo "notfile $(stat -L -c %F -- "$1")"; exit 0; }
stat -L -c '%a %s' -- "$1" && "$2" < "$1"`;

/** What `stat -c %F` calls a kind, in the words the local file modules use. */
function kindOf(statKind: string): string {
  if (statKind === "directory") return "a directory";
  if (statKind === "fifo") return "a FIFO";
  if (statKind === "socket") return "a socket";
  if (statKind.endsWith("special file")) return "a device";
  return "not a file";
}

/**
 * The mode, size and digest of a regular file on the host (`sha256sum` and
 * friends run there: the bytes never cross the network). A missing path or
 * one that is not a regular file is a TaskFailure naming it.
 */
export async function remoteFile(target: SshTarget, path: string, algorithm: string, signal: AbortSignal): Promise<RemoteFile> {
  const tool = DIGEST_TOOLS[algorithm];
  if (!tool) throw new Error(`Internal error: no digest tool for ${algorithm}`);
  const out = await remoteScript(target, `digest of ${path}`, FACTS, [path, tool], signal);
  const [first = "", second = ""] = out.split("\n");
  if (first === "missing") throw new TaskFailure(`${remoteName(target, path)}: no such file`);
  if (first.startsWith("notfile ")) throw new TaskFailure(`${remoteName(target, path)}: not a regular file (${kindOf(first.slice(8))})`);
  const facts = /^([0-7]+) (\d+)$/.exec(first);
  const digest = /^([0-9a-f]+)\s/.exec(second);
  if (!facts || !digest) throw new TaskFailure(`${remoteName(target, path)}: unexpected answer from stat and ${tool}: ${JSON.stringify(out)}`);
  return { mode: parseInt(facts[1]!, 8), bytes: Number(facts[2]), digest: digest[1]! };
}

/** Whether anything is at `path` on the host. */
export async function remoteExists(target: SshTarget, path: string, signal: AbortSignal): Promise<boolean> {
  const out = await remoteScript(target, `test -e ${path}`, `[ ! -e "$1" ] || echo exists`, [path], signal);
  return out.trim() === "exists";
}

/** `a/b/c` → a, a/b, a/b/c: what `mkdir -p` would create, for sftp's one-level mkdir. */
function ancestors(dir: string): string[] {
  const out: string[] = [];
  const parts = dir.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const path = parts.slice(0, i).join("/");
    if (path !== "" && parts[i - 1] !== "" && parts[i - 1] !== ".") out.push(path);
  }
  return out;
}

/**
 * Uploads a local file to `remotePath` in `remoteDir` (created as by
 * `mkdir -p`) and sets its permission bits: one sftp session, no remote
 * shell. A "-" before a batch command lets it fail (the directory exists).
 */
export async function upload(target: SshTarget, localPath: string, remoteDir: string, remotePath: string, mode: number, signal: AbortSignal): Promise<void> {
  const to = sftpQuote(remotePath);
  const mkdirs = ancestors(remoteDir).map((d) => `-mkdir ${sftpQuote(d)}`);
  await sftpBatch(target, `upload to ${remotePath}`, [...mkdirs, `put ${sftpQuote(localPath)} ${to}`, `chmod ${mode.toString(8)} ${to}`], signal);
}

/** Downloads `remotePath` to a local file. */
export async function download(target: SshTarget, remotePath: string, localPath: string, signal: AbortSignal): Promise<void> {
  await sftpBatch(target, `download of ${remotePath}`, [`get ${sftpQuote(remotePath)} ${sftpQuote(localPath)}`], signal);
}

// $1 temp, $2 final path, $3 digest tool, $4 expected digest, $5 1 = overwrite.
// The temp file is renamed into place only when its digest is the one expected;
// without overwrite, ln refuses an existing name atomically (as the local copy does).
const PLACE = `d=$("$3" < "$1") || { rm -f -- "$1"; exit 1; }
d=\${d%% *}
if [ "$d" != "$4" ]; then rm -f -- "$1"; echo "mismatch $d"; exit 0; fi
if [ "$5" = 1 ]; then mv -f -- "$1" "$2"; exit; fi
if ln -- "$1" "$2" 2>/dev/null; then rm -f -- "$1"; else rm -f -- "$1"; echo exists; fi`;

export type Placed = { placed: true } | { placed: false; reason: "exists" } | { placed: false; reason: "mismatch"; digest: string };

/**
 * Moves an uploaded temp file to `path` on the host if its digest there is
 * `digest`; removes the temp file otherwise.
 */
export async function placeRemote(
  target: SshTarget,
  temp: string,
  path: string,
  expect: { algorithm: string; digest: string; overwrite: boolean },
  signal: AbortSignal,
): Promise<Placed> {
  const tool = DIGEST_TOOLS[expect.algorithm];
  if (!tool) throw new Error(`Internal error: no digest tool for ${expect.algorithm}`);
  const out = (await remoteScript(target, `rename to ${path}`, PLACE, [temp, path, tool, expect.digest, expect.overwrite ? "1" : "0"], signal)).trim();
  if (out === "") return { placed: true };
  if (out === "exists") return { placed: false, reason: "exists" };
  if (out.startsWith("mismatch ")) return { placed: false, reason: "mismatch", digest: out.slice(9) };
  throw new TaskFailure(`${remoteName(target, path)}: unexpected answer while renaming into place: ${JSON.stringify(out)}`);
}

/**
 * Removes a remote file, best effort and bounded: for cleaning up a temp
 * file after an abort, when the task's own signal has already fired.
 */
export async function removeRemote(target: SshTarget, path: string, timeoutMs = 30_000): Promise<void> {
  try {
    await remoteScript(target, `rm ${path}`, `rm -f -- "$1"`, [path], AbortSignal.timeout(timeoutMs));
  } catch {
    // The host is gone or slow: a dot-named .partial file is all that is left.
  }
}
