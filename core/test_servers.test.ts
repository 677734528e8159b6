import { expect, test } from "bun:test";
import { startRedis } from "./test_redis.ts";
import { runProcess } from "./test_helpers.ts";
import { startSshd } from "./test_sshd.ts";

test("the test sshd accepts a login with its key and runs a command there", async () => {
  const sshd = await startSshd();
  try {
    const r = await runProcess(["ssh", ...sshd.clientOptions, `${sshd.user}@127.0.0.1`, "echo", "remote:$((6*7))"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("remote:42\n");
  } finally {
    sshd.stop();
  }
}, 60_000);

test("the test redis-server answers, and is gone once stopped", async () => {
  const redis = await startRedis();
  const ping = await runProcess(["redis-cli", "-p", String(redis.port), "incr", "k"]);
  expect(ping.stdout.trim()).toBe("1");
  await redis.stop();
  const after = await runProcess(["redis-cli", "-p", String(redis.port), "ping"]);
  expect(after.stdout.trim()).not.toBe("PONG");
}, 60_000);
