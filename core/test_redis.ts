/**
 * Shared by tests: a real redis-server on a loopback port, with no
 * persistence and its files in a temporary directory. Tests that need it fail
 * loudly when redis-server is missing (CI installs it).
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { tempDir } from "./test_helpers.ts";
import { freePort } from "./test_sshd.ts";

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** Stops the server (SIGTERM unless `signal` says otherwise). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts redis-server on `port` (a free one by default); waits until it answers PING. */
export async function startRedis(port?: number): Promise<TestRedis> {
  if (spawnSync("redis-server", ["--version"]).status !== 0) throw new Error("redis-server is not installed (Debian package redis-server); the coordinator tests need it");
  const dir = tempDir("fanout-redis-");
  const chosen = port ?? (await freePort());
  const child = spawn("redis-server", ["--port", String(chosen), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", join(dir, "redis.log")], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (let i = 0; ; i++) {
    const ping = spawnSync("redis-cli", ["-p", String(chosen), "ping"], { encoding: "utf8" });
    if (ping.stdout.trim() === "PONG") break;
    if (i >= 50) {
      child.kill("SIGKILL");
      throw new Error(`redis-server on port ${chosen} did not answer`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    dir,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
