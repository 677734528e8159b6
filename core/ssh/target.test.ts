import { afterAll, beforeAll, expect, test } from "bun:test";
import { runProcess } from "../test_helpers.ts";
import { startSshd, type TestSshd } from "../test_sshd.ts";
import { remoteCommand, type SshTarget, sshArgv } from "./target.ts";

let sshd: TestSshd;
beforeAll(async () => {
  sshd = await startSshd();
}, 60_000);
afterAll(() => sshd?.stop());

const target = (): SshTarget => ({
  name: "web1",
  address: "127.0.0.1",
  port: sshd.port,
  user: sshd.user,
  options: [`IdentityFile=${sshd.keyPath}`, `UserKnownHostsFile=${sshd.knownHostsPath}`, "IdentitiesOnly=yes"],
  configFile: "/dev/null",
});

test("an argv reaches the remote program byte for byte, whatever its characters", async () => {
  const words = ["a b", "it's", '"dq"', "$HOME", "a;touch /tmp/nope", "line1\nline2", "", "*", "\\back", "é ü"];
  const argv = sshArgv(target(), ["printf", "[%s]\\n", ...words]);
  const r = await runProcess(argv);
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe(words.map((w) => `[${w}]\n`).join(""));
}, 60_000);

test("a safe word stays bare and an empty one is kept", () => {
  expect(remoteCommand(["ls", "-l", "", "a b"])).toBe("ls -l '' 'a b'");
});
