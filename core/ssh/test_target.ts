/**
 * Shared by the ssh tests: SshTargets built by hand that reach the test
 * sshd (core/test_sshd.ts) under a name of the test's choosing, as the host
 * model would build them from a plan.
 */
import type { TestSshd } from "../test_sshd.ts";
import type { SshTarget } from "./target.ts";

export function sshdTarget(sshd: TestSshd, name = "web1", more: Partial<SshTarget> = {}): SshTarget {
  return {
    name,
    address: "127.0.0.1",
    port: sshd.port,
    user: sshd.user,
    options: [`IdentityFile=${sshd.keyPath}`, `UserKnownHostsFile=${sshd.knownHostsPath}`, "IdentitiesOnly=yes"],
    configFile: "/dev/null",
    ...more,
  };
}
