/**
 * Commands on ssh hosts, through the system OpenSSH client.
 *
 * One master connection per host (ControlMaster), started the first time
 * the host is needed, its socket in a private 0700 directory; every command
 * runs as a session multiplexed over it, and `close()` ends every master at
 * the end of the run (a Ctrl-C or failed run too). A host whose master
 * cannot be started (connection refused, host key or auth refused, unknown
 * name: ssh's exit 255) is unreachable, with ssh's own words.
 *
 * The remote side runs each command in a session of its own (`setsid -w`)
 * and first tells its process group id on stderr (the line is taken out of
 * the output). An abort or timeout then ends the REMOTE group over the
 * master — SIGTERM, SIGKILL after the grace, then waits until it is empty —
 * before the local ssh client is let go: as for a local process, exec
 * returns only once the command's processes are gone, so the instance's
 * guards are held until then.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { destination, sshArgv, sshOptions, type SshTarget } from "../ssh/target.ts";
import type { ExecOptions, ExecResult } from "./exec_types.ts";
import type { OutputObserver } from "./output_observer.ts";
import { groupAlive, killGroup } from "./process_group.ts";
import { DEFAULT_KILL_GRACE_MS, exec } from "./spawn.ts";
import * as watchdog from "./watchdog.ts";
import { makeTempDir } from "./temp_dir.ts";

/** ssh's own failure (it could not reach the host, or lost it) rather than the command's exit status. */
export class UnreachableError extends Error {
  override name = "UnreachableError";
  constructor(readonly host: string, readonly detail: string) {
    super(`host ${host} is unreachable: ${detail}`);
  }
}

export type Connected = { target: SshTarget } | { unreachable: UnreachableError };

interface Master {
  connected: Promise<Connected>;
  /** The master's pid (its own session: a group), once it runs. */
  pid?: number;
  target: SshTarget;
}

export interface SshConnectionOptions {
  /** Extra tries after a host could not be reached (`--retries-unreachable`). */
  retries?: number;
  /** Milliseconds before the first retry, doubling (default 1000). */
  retryDelayMs?: number;
}

/** The run's ssh masters, one per host, and where their sockets live. */
export class SshConnections {
  private dir?: string;
  private readonly masters = new Map<string, Master>();
  private readonly down = new Map<string, UnreachableError>();
  /** Hosts whose unreachability an instance has ended with. */
  private readonly told = new Set<string>();
  private readonly stopping = new AbortController();
  private closed = false;

  /** `targets`: each ssh host's target by host name (no control path: this adds its own). */
  constructor(private readonly targets: ReadonlyMap<string, SshTarget>, private readonly options: SshConnectionOptions = {}) {}

  /** Whether `host` is reached over ssh. */
  has(host: string): boolean {
    return this.targets.has(host);
  }

  /**
   * Whether `host`'s unreachability is news to the instance asking: true the
   * first time only. That instance ends `unreachable`, later ones `skipped`,
   * also when the host was found down before any instance asked (the run
   * probes its ssh hosts before it starts).
   */
  firstToHear(host: string): boolean {
    if (this.told.has(host)) return false;
    this.told.add(host);
    return true;
  }

  /** The ssh hosts' names. */
  hosts(): string[] {
    return [...this.targets.keys()];
  }

  /** Why `host` is unreachable, once that is known. */
  unreachable(host: string): UnreachableError | undefined {
    return this.down.get(host);
  }

  /** Marks a host unreachable: a command found the connection gone. */
  lost(error: UnreachableError): void {
    if (!this.down.has(error.host)) this.down.set(error.host, error);
  }

  /** The host's master, started on first use; every caller waits for the same one. */
  connect(host: string): Promise<Connected> {
    const known = this.masters.get(host);
    if (known) return known.connected;
    const base = this.targets.get(host);
    if (!base) return Promise.reject(new Error(`Internal error: ${host} is not an ssh host`));
    if (this.closed) return Promise.resolve({ unreachable: new UnreachableError(host, "the run is over") });
    const target = { ...base, controlPath: join(this.socketDir(), `${this.masters.size}.sock`) };
    const master: Master = { target, connected: Promise.resolve({ target }) };
    master.connected = this.start(master);
    this.masters.set(host, master);
    return master.connected;
  }

  private socketDir(): string {
    // mkdtemp makes it 0700: no one else may reach our masters through the sockets.
    this.dir ??= makeTempDir("fanout-ssh-");
    return this.dir;
  }

  private async start(master: Master): Promise<Connected> {
    const { target } = master;
    const retries = this.options.retries ?? 0;
    let delay = this.options.retryDelayMs ?? 1000;
    for (let attempt = 0; ; attempt++) {
      const log = join(this.socketDir(), `${target.name}.${attempt}.log`);
      const port = target.port !== undefined ? ["-p", String(target.port)] : [];
      // -f: ssh returns once the master is authenticated and in the background (its own session), or fails with 255.
      // Under `setsid -w`: exec ends whatever is left in the group it started once its leader exits, and the
      // master, between ssh's fork and its own setsid(), would still be in that group; here it never is.
      const argv = ["setsid", "-w", "ssh", ...sshOptions(target), ...port, "-E", log, "-o", "ControlMaster=yes", "-o", "ControlPersist=yes", "-N", "-f", destination(target)];
      let code: number | null;
      try {
        code = (await exec(argv, { output: "discard", signal: this.stopping.signal })).code;
      } catch (e) {
        return { unreachable: this.markDown(target.name, this.stopping.signal.aborted ? "the run was cancelled while connecting" : String(e)) };
      }
      if (code === 0) {
        master.pid = await this.masterPid(target);
        if (master.pid !== undefined) watchdog.track(master.pid);
        if (this.closed) await this.stop(master);
        return { target };
      }
      const said = lastLines(log) || `ssh exited with code ${code}`;
      if (attempt >= retries || this.closed) return { unreachable: this.markDown(target.name, said) };
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }

  private markDown(host: string, detail: string): UnreachableError {
    const error = new UnreachableError(host, detail);
    this.lost(error);
    return error;
  }

  /** `ssh -O check` says "Master running (pid=N)". */
  private async masterPid(target: SshTarget): Promise<number | undefined> {
    const r = await exec(["ssh", ...sshOptions(target), "-O", "check", destination(target)], {});
    const m = /pid=(\d+)/.exec(r.stderr);
    return m ? Number(m[1]) : undefined;
  }

  /**
   * Ends every master and removes the socket directory. Commands still
   * running on a host lose their session: call it once they have ended.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.stopping.abort(new Error("the run is over"));
    await Promise.all([...this.masters.values()].map(async (m) => {
      const connected = await m.connected;
      if ("target" in connected) await this.stop(m);
    }));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async stop(master: Master): Promise<void> {
    const { target, pid } = master;
    try {
      await exec(["ssh", ...sshOptions(target), "-O", "exit", destination(target)], { output: "discard" });
    } catch {
      // the master may be gone already; its pid is checked below
    }
    if (pid === undefined) return;
    for (let i = 0; i < 50 && groupAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    if (groupAlive(pid)) killGroup(pid, "SIGKILL");
    watchdog.untrack(pid);
    master.pid = undefined;
  }
}

/** The last lines ssh wrote to its log (its reason for failing), or "". */
function lastLines(path: string): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-3).join("; ");
  } catch {
    return "";
  }
}

const PGID_MARK = "fanout-pgid ";

/**
 * Run on the host by `setsid -w`: a session of its own, whose group id is
 * `$$`, said first on stderr; then into the working directory ($1, when not
 * empty) and exec of the command.
 */
const REMOTE_WRAPPER = `printf '${PGID_MARK}%s\\n' "$$" >&2; if [ -n "$1" ]; then cd -- "$1" || exit 1; fi; shift; exec "$@"`;

/**
 * Ends the remote group $1: SIGTERM, SIGKILL after $2 tenths of a second,
 * and returns once the group is empty (or 5 s after the SIGKILL).
 */
const REMOTE_KILL = `p=$1; g=$2; kill -TERM -"$p" 2>/dev/null || exit 0; i=0; while kill -0 -"$p" 2>/dev/null; do if [ "$i" -ge "$g" ]; then kill -KILL -"$p" 2>/dev/null; fi; if [ "$i" -ge $((g + 50)) ]; then exit 1; fi; sleep 0.1; i=$((i + 1)); done`;

/** The argv run on the host for `argv`, in its own session, in `cwd`, with `env` added. */
export function remoteArgv(argv: readonly string[], cwd?: string, env?: Record<string, string>): string[] {
  const withEnv = env && Object.keys(env).length > 0 ? ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv] : [...argv];
  return ["setsid", "-w", "sh", "-c", REMOTE_WRAPPER, "fanout", cwd ?? "", ...withEnv];
}

/**
 * Runs `argv` on the target's host: stdout, stderr and the exit status as
 * the remote command gave them, `input` on its stdin. `cwd` is a remote
 * directory. Rejects with UnreachableError when ssh failed before the
 * command ran, with `signal.reason` after an abort — once the remote group
 * is gone.
 */
export async function execRemote(target: SshTarget, argv: readonly string[], options: ExecOptions = {}, observer?: OutputObserver): Promise<ExecResult> {
  if (argv.length === 0) throw new TypeError("exec: argv must not be empty");
  const { signal } = options;
  if (signal?.aborted) throw signal.reason;
  const discard = options.output === "discard";
  const pgid = new PgidReader(discard ? undefined : observer);
  // The local client is stopped only after the remote group is gone (or cannot be reached).
  const local = new AbortController();
  let killed: Promise<void> | undefined;
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const onAbort = () => {
    // Stopping the local client alone would not do: a multiplexed session's
    // output pipes are held by the master, and the remote command runs on.
    // So wait for the group id (a command still starting says it soon; one
    // that never starts ends its session, which settles `known` too), end
    // the remote group, then let the local client go.
    killed ??= pgid.known.then(async (p) => {
      const gone = p === undefined || await killRemote(target, p, graceMs);
      local.abort(signal!.reason);
      // Not known to be gone: this call never returns, so the attempt ends
      // stuck (core/run_task.ts) and keeps its guards, as a local module
      // that never returns does; the run says so instead of releasing a lock
      // that processes on the host may still use.
      if (!gone) await new Promise<never>(() => {});
    }, () => local.abort(signal!.reason));
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let result: ExecResult;
  try {
    result = await exec(sshArgv(target, remoteArgv(argv, options.cwd, options.env)), {
      input: options.input,
      // Captured even when discarded: the group id comes on stderr (what is dropped costs no memory).
      output: "capture",
      maxOutputBytes: discard ? 1024 : options.maxOutputBytes,
      killGraceMs: options.killGraceMs,
      signal: local.signal,
    }, pgid);
  } catch (e) {
    if (signal?.aborted) {
      await killed;
      throw signal.reason;
    }
    throw e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    pgid.end();
  }
  if (signal?.aborted) {
    await killed;
    throw signal.reason;
  }
  if (!pgid.seen && result.code === 255) throw new UnreachableError(target.name, lastLine(result.stderr) || "ssh exited with code 255");
  const stderr = withoutMark(result.stderr);
  return discard ? { ...result, stdout: "", stderr: "" } : { ...result, stderr };
}

/**
 * Ends the remote group `pgid` over the master; true once the host says it
 * is gone, false when it cannot say (the group outlived its SIGKILL, or the
 * connection failed or hung).
 */
async function killRemote(target: SshTarget, pgid: number, graceMs: number): Promise<boolean> {
  const tenths = String(Math.max(1, Math.ceil(graceMs / 100)));
  // Bounded: a master that hangs must not hold the call forever.
  const limit = AbortSignal.timeout(graceMs + 15_000);
  try {
    const r = await exec(sshArgv(target, ["sh", "-c", REMOTE_KILL, "fanout", String(pgid), tenths]), { output: "discard", signal: limit });
    return r.code === 0;
  } catch {
    return false;
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").slice(-1)[0] ?? "";
}

function withoutMark(stderr: string): string {
  if (!stderr.startsWith(PGID_MARK)) return stderr;
  const nl = stderr.indexOf("\n");
  return nl < 0 ? "" : stderr.slice(nl + 1);
}

/**
 * Watches stderr for the wrapper's first line (the remote group id) and
 * passes everything else on to the caller's observer.
 */
class PgidReader implements OutputObserver {
  seen = false;
  readonly known: Promise<number | undefined>;
  private resolve!: (pgid: number | undefined) => void;
  private head = "";
  private done = false;
  private ended = false;

  constructor(private readonly inner: OutputObserver | undefined) {
    this.known = new Promise((r) => (this.resolve = r));
  }

  chunk(stream: "stdout" | "stderr", bytes: Uint8Array): void {
    if (stream === "stdout" || this.done) return this.inner?.chunk(stream, bytes);
    this.head += new TextDecoder().decode(bytes);
    const nl = this.head.indexOf("\n");
    if (nl < 0 && this.head.length < 64) return;
    this.done = true;
    const line = nl < 0 ? this.head : this.head.slice(0, nl);
    const rest = nl < 0 ? "" : this.head.slice(nl + 1);
    if (line.startsWith(PGID_MARK) && /^\d+$/.test(line.slice(PGID_MARK.length))) {
      this.seen = true;
      this.resolve(Number(line.slice(PGID_MARK.length)));
      if (rest) this.inner?.chunk("stderr", new TextEncoder().encode(rest));
    } else {
      this.resolve(undefined);
      this.inner?.chunk("stderr", new TextEncoder().encode(this.head));
    }
  }

  /** Both streams ended (told by exec, and again by execRemote: the second time is a no-op). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.done) {
      this.done = true;
      if (this.head) this.inner?.chunk("stderr", new TextEncoder().encode(this.head));
      this.resolve(undefined);
    }
    this.inner?.end();
  }
}
