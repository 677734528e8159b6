import { expect, test } from "bun:test";
import { startRedis } from "../test_redis.ts";
import { freePort } from "../test_sshd.ts";
import { connectCoordinator, parseCoordinator } from "./connection.ts";

test("a coordinator URL must be redis:// or rediss:// with a host and a numeric db; a password never shows", () => {
  expect(parseCoordinator("http://x")).toContain("expected a redis:// or rediss:// URL");
  expect(parseCoordinator("redis:///0")).toContain("expected a host");
  expect(parseCoordinator("redis://h:1/x")).toContain("expected a database number");
  expect(parseCoordinator("nonsense")).toContain("expected a URL");
  const ok = parseCoordinator("redis://u:s3cret@h:6379/2", "p:");
  expect(ok).toEqual({ url: "redis://u:s3cret@h:6379/2", display: "redis://u:***@h:6379/2", prefix: "p:" });
});

test("connects to a real redis-server, and fails (not hangs) on a closed port", async () => {
  const redis = await startRedis();
  try {
    const address = parseCoordinator(redis.url);
    if (typeof address === "string") throw new Error(address);
    const client = await connectCoordinator(address);
    expect(await client.incr("fanout:test")).toBe(1);
    await client.quit();
  } finally {
    await redis.stop();
  }
  const closed = parseCoordinator(`redis://127.0.0.1:${await freePort()}`);
  if (typeof closed === "string") throw new Error(closed);
  await expect(connectCoordinator(closed, { retryStrategy: () => null })).rejects.toThrow();
});
