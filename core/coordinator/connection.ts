/**
 * The coordinator: a Redis (or Valkey) server that several fanout processes
 * share, for guards (issue 12: locks and token buckets) and for handing out
 * the instances of one run to many workers. This file only names the server
 * and opens connections to it; the client library is loaded on first use, so
 * a run without a coordinator never pays for it.
 */
import type { Redis, RedisOptions } from "ioredis";

export interface CoordinatorAddress {
  /** The URL as given: redis://[user:pass@]host:port[/db] or rediss:// (TLS). */
  url: string;
  /** The URL with any password replaced by ***: what messages and events show. */
  display: string;
  /** Every key this run touches starts with it (`--coordinator-prefix`, default "fanout:"). */
  prefix: string;
}

export const DEFAULT_PREFIX = "fanout:";

/**
 * Checks a coordinator URL; returns its address, or a message saying what
 * was expected (the caller turns it into a UsageError or PlanError).
 */
export function parseCoordinator(text: string, prefix = DEFAULT_PREFIX): CoordinatorAddress | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `expected a URL like redis://host:6379, got "${text}"`;
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return `expected a redis:// or rediss:// URL, got "${url.protocol}//…"`;
  if (!url.hostname) return `expected a host in the coordinator URL "${text}"`;
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) return `expected a database number after the host (redis://host:6379/0), got "/${db}"`;
  const display = url.password ? text.replace(`:${url.password}@`, ":***@") : text;
  return { url: text, display, prefix };
}

/**
 * Opens a connection. It fails fast instead of queueing commands while the
 * server is away: a run must notice a lost coordinator and stop, not hang.
 */
export async function connectCoordinator(address: CoordinatorAddress, options: RedisOptions = {}): Promise<Redis> {
  const { Redis: RedisClient } = await import("ioredis");
  const client = new RedisClient(address.url, {
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    ...options,
  });
  // ioredis reports connection errors as events too; without a listener it
  // prints them itself. Callers learn of them from failed commands.
  let reason: unknown;
  client.on("error", (error) => (reason ??= error));
  try {
    await client.connect();
  } catch (error) {
    // connect() rejects with "Connection is closed."; the event said why (ECONNREFUSED, ENOTFOUND, a TLS error).
    throw reason ?? error;
  }
  return client;
}
