/**
 * Shared by tests: a real OpenSSH server on a loopback port, with its own
 * host key, user key, config and pid file in a temporary directory. Nothing
 * of the system's ssh configuration is read or touched. Tests that need it
 * fail loudly when sshd is missing (CI installs openssh-server).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { tempDir } from "./test_helpers.ts";

export interface TestSshd {
  port: number;
  /** The client's private key, accepted for `user`. */
  keyPath: string;
  /** A known_hosts file that already lists this server on its port. */
  knownHostsPath: string;
  user: string;
  dir: string;
  /** ssh options that reach this server from a client with no other config. */
  clientOptions: string[];
  stop(): void;
  /** Starts the stopped server again on the same port, keys and config (returns at once: sshd forks). */
  start(): void;
}

const SSHD = ["/usr/sbin/sshd", "/usr/bin/sshd"].find((p) => existsSync(p));

/** A free loopback port, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function keygen(path: string): void {
  const made = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`);
}

/**
 * Starts sshd; waits until it accepts a real login. `wrap` runs sshd under a
 * command (`["taskset", "-c", "0"]`: a host whose sessions see one CPU).
 */
export async function startSshd(options: { wrap?: string[] } = {}): Promise<TestSshd> {
  if (!SSHD) throw new Error("sshd is not installed (Debian package openssh-server); the ssh tests need it");
  const dir = tempDir("fanout-sshd-");
  const hostKey = join(dir, "host_key");
  const keyPath = join(dir, "user_key");
  keygen(hostKey);
  keygen(keyPath);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${keyPath}.pub`));
  mkdirSync("/run/sshd", { recursive: true });
  const user = process.env.USER ?? "root";
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "MaxSessions 100",
      "MaxStartups 100:30:200",
      "Subsystem sftp internal-sftp",
      // The login's shell reads $HOME/.bashrc for every ssh command (Debian's bash does for sshd's sessions):
      // an empty home of its own keeps a slow one of this machine's user (pyenv, say) out of every session.
      `SetEnv HOME=${dir}`,
      "",
    ].join("\n"),
  );
  const knownHostsPath = join(dir, "known_hosts");
  writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ")}\n`);
  const argv = [...(options.wrap ?? []), SSHD, "-f", config, "-E", join(dir, "sshd.log")];
  const start = () => {
    const started = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
    if (started.status !== 0) throw new Error(`sshd did not start: ${started.stderr}`);
  };
  start();
  const clientOptions = ["-F", "/dev/null", "-i", keyPath, "-o", `UserKnownHostsFile=${knownHostsPath}`, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-p", String(port)];
  const stop = () => {
    const pidFile = join(dir, "sshd.pid");
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGTERM");
      } catch {
        // already gone
      }
    }
  };
  for (let i = 0; ; i++) {
    const probe = spawnSync("ssh", [...clientOptions, `${user}@127.0.0.1`, "true"], { encoding: "utf8" });
    if (probe.status === 0) break;
    if (i >= 50) {
      stop();
      throw new Error(`sshd on port ${port} refused a login: ${probe.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, keyPath, knownHostsPath, user, dir, clientOptions, stop, start };
}
