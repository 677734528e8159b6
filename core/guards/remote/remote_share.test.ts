/**
 * The shared guards' contract, against a real redis-server: two SharedGuards
 * stand for two runners. Each guard is driven as the scheduler drives it —
 * parked(n) when instances wait, tryAcquire once it said room appeared,
 * release — and checked by what it grants and by the keys left in Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Redis } from "ioredis";
import { connectCoordinator, parseCoordinator } from "../../coordinator/connection.ts";
import { planErrors, runPlanText } from "../../test_helpers.ts";
import { startRedis, type TestRedis } from "../../test_redis.ts";
import type { Guard } from "../guard.ts";
import { GuardSet, tryAcquireAll } from "../guard_set.ts";
import { SharedGuards, shareGuards } from "./shared_guards.ts";

let redis: TestRedis;
let probe: Redis;
let prefixes = 0;
beforeAll(async () => {
  redis = await startRedis();
  probe = await connectCoordinator(address(""));
});
afterAll(async () => {
  await probe?.quit();
  await redis?.stop();
});

function address(prefix: string) {
  const a = parseCoordinator(redis.url, prefix);
  if (typeof a === "string") throw new Error(a);
  return a;
}

/** A runner: a guard set whose locks and buckets are shared, and the guards whose room appeared. */
async function runner(prefix: string, leaseTtlMs = 30_000) {
  const guards = new GuardSet({ cpu: 1, io: [{ name: "io", capacity: 1, sequentialIoWeight: 1 }] });
  const woken: Guard[] = [];
  guards.attach({ wake: (g) => woken.push(g), idle: () => true });
  const shared = await shareGuards(guards, address(prefix), { leaseTtlMs });
  return { guards, shared, woken };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const fresh = () => `t${++prefixes}:`;

describe("SharedGuards › locks", () => {
  test("one holder among runners; the waiter gets the lock when it is released, and nothing stays leased", async () => {
    const prefix = fresh();
    const [a, b] = [await runner(prefix), await runner(prefix)];
    try {
      const la = a.guards.global("deploy");
      const lb = b.guards.global("deploy");
      expect([la.external, la.available(0)]).toEqual([true, 0]);
      la.parked!(1);
      await until("a's lease", () => la.available(0) === 1);
      expect(a.woken).toContain(la);
      la.parked!(0);
      expect(la.tryAcquire(1, 0)).toBe(true);
      lb.parked!(1);
      // b asks, is refused, and waits: a holds the only lease.
      await new Promise((r) => setTimeout(r, 300));
      expect(lb.available(0)).toBe(0);
      expect(await probe.zcard(`${prefix}global:deploy`)).toBe(1);
      la.release(1, 0);
      await until("b's lease after a's release", () => lb.available(0) === 1);
      lb.parked!(0);
      expect(lb.tryAcquire(1, 0)).toBe(true);
      lb.release(1, 0);
      await until("no lease left", async () => (await probe.zcard(`${prefix}global:deploy`)) === 0);
    } finally {
      await a.shared.close();
      await b.shared.close();
    }
  }, 30_000);

  test("a host lock with limit 2 is held by at most two, across runners", async () => {
    const prefix = fresh();
    const runners = [await runner(prefix), await runner(prefix), await runner(prefix)];
    try {
      const locks = runners.map((r) => r.guards.keyed("pool", 2));
      for (const l of locks) l.parked!(1);
      await until("two leases", () => locks.filter((l) => l.available(0) === 1).length === 2);
      await new Promise((r) => setTimeout(r, 300));
      expect(locks.filter((l) => l.available(0) === 1).length).toBe(2);
      expect(await probe.zcard(`${prefix}host:pool`)).toBe(2);
    } finally {
      for (const r of runners) await r.shared.close();
    }
  }, 30_000);

  test("a lease granted for an instance that stopped waiting goes back; a refusing local guard is reported before a shared one (the instance parks there)", async () => {
    const prefix = fresh();
    const a = await runner(prefix);
    try {
      const lock = a.guards.global("x");
      lock.parked!(1);
      await until("the lease", () => lock.available(0) === 1);
      lock.parked!(0);
      await until("the unused lease to go back", async () => (await probe.zcard(`${prefix}global:x`)) === 0);
      expect(lock.available(0)).toBe(0);
      // All or none, local guards first: with the CPU taken, the shared lock is not even looked at.
      const other = a.guards.global("y");
      expect(a.guards.cpu.tryAcquire(1)).toBe(true);
      expect(tryAcquireAll([{ guard: other, amount: 1 }, { guard: a.guards.cpu, amount: 1 }], 0)).toBe(a.guards.cpu);
    } finally {
      await a.shared.close();
    }
  }, 30_000);

  test("a held lease is renewed before its TTL; one found gone is counted lost", async () => {
    const prefix = fresh();
    const a = await runner(prefix, 600);
    try {
      const lock = a.guards.global("r");
      lock.parked!(1);
      await until("the lease", () => lock.available(0) === 1);
      lock.parked!(0);
      expect(lock.tryAcquire(1, 0)).toBe(true);
      await until("renewals", () => (a.shared.stats()["global:r"]?.lease_renewals ?? 0) >= 2);
      // Held past its TTL thanks to renewals.
      expect(await probe.zcard(`${prefix}global:r`)).toBe(1);
      const reports: string[] = [];
      a.shared.report = (_level, message) => reports.push(message);
      await probe.del(`${prefix}global:r`);
      await until("the loss to be seen", () => a.shared.stats()["global:r"]!.leases_lost === 1);
      expect(reports.join("\n")).toContain("global:r: 1 lease(s) held by running instances were lost");
      lock.release(1, 0);
    } finally {
      await a.shared.close();
    }
  }, 30_000);
});

test("SharedGuards › a waiter is served once a restarted coordinator answers again", async () => {
  const own = await startRedis();
  const at = (url: string) => {
    const a = parseCoordinator(url, "restart:");
    if (typeof a === "string") throw new Error(a);
    return a;
  };
  const make = async () => {
    const guards = new GuardSet({ cpu: 1, io: [{ name: "io", capacity: 1, sequentialIoWeight: 1 }] });
    guards.attach({ wake: () => {}, idle: () => true });
    // Half the TTL must hold the restart, even on a loaded machine.
    return { guards, shared: await shareGuards(guards, at(own.url), { leaseTtlMs: 10_000 }) };
  };
  const [a, b] = [await make(), await make()];
  let again: TestRedis | undefined;
  try {
    const la = a.guards.global("g");
    const lb = b.guards.global("g");
    la.parked!(1);
    await until("a's lease", () => la.available(0) === 1);
    la.parked!(0);
    expect(la.tryAcquire(1, 0)).toBe(true);
    lb.parked!(1);
    await own.stop();
    again = await startRedis(own.port);
    // The new server holds no lease: b's waiter gets the lock once its link is back.
    await until("b's lease from the restarted server", () => lb.available(0) === 1, 40_000);
    expect(b.shared.lost).toBeUndefined();
    la.release(1, 0);
  } finally {
    await a.shared.close();
    await b.shared.close();
    await again?.stop();
    await own.stop();
  }
}, 90_000);

describe("SharedGuards › buckets", () => {
  test("one bucket across runners: the burst is shared, and a token no instance took is given back", async () => {
    const prefix = fresh();
    const [a, b] = [await runner(prefix), await runner(prefix)];
    try {
      // 0.01/s: no refill within the test.
      const ba = a.guards.bucket("api", 0.01, 2);
      const bb = b.guards.bucket("api", 0.01, 2);
      ba.parked!(1);
      await until("a's token", () => ba.available(0) === 1);
      ba.parked!(0);
      expect(ba.tryAcquire(1, 0)).toBe(true);
      bb.parked!(2);
      await until("b's token", () => bb.available(0) === 1);
      await new Promise((r) => setTimeout(r, 300));
      // Two tokens in all: b got one, not two.
      expect(bb.available(0)).toBe(1);
      // Its instances stop waiting: the token goes back to the bucket.
      bb.parked!(0);
      await until("the refund", async () => Number(await probe.hget(`${prefix}bucket:api`, "tokens")) >= 0.99);
      expect(bb.available(0)).toBe(0);
    } finally {
      await a.shared.close();
      await b.shared.close();
    }
  }, 30_000);
});

test("SharedGuards.connect › a closed port is a CoordinatorError naming the address", async () => {
  const { freePort } = await import("../../test_sshd.ts");
  const a = parseCoordinator(`redis://:pw@127.0.0.1:${await freePort()}`);
  if (typeof a === "string") throw new Error(a);
  await expect(SharedGuards.connect(a)).rejects.toThrow(/^cannot reach the coordinator redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: /);
});

describe("coordinator: in the plan", () => {
  test("shares the plan's locks and buckets (not the CPU); run_start and the summary say which", async () => {
    const log = await runPlanText(`version: 1
coordinator: ${redis.url}
tasks:
  - { name: a, module: debug, hint: host_exclusive, items: [1, 2], with: { message: x } }
  - { name: b, module: debug, hint: { kind: rate_limited, per_second: 1000, burst: 5, key: plan-api }, needs: [], with: { message: x } }
  - { name: c, module: debug, needs: [], resources: { cpu: 1 }, with: { message: x } }
`);
    expect(log.exitCode).toBe(0);
    const start = log.events[0] as { coordinator?: { address: string; prefix: string; lease_ttl_ms: number; guards: string[] } };
    expect(start.coordinator).toEqual({ address: redis.url, prefix: "fanout:", lease_ttl_ms: 30_000, guards: ["host:localhost", "bucket:plan-api"] });
    const guards = log.end.summary.guards;
    expect([guards["host:localhost"]!.remote, guards["bucket:plan-api"]!.remote, guards.cpu!.remote]).toEqual([true, true, undefined]);
    expect(guards["host:localhost"]!.acquisitions).toBe(2);
  }, 30_000);

  test("a coordinator: that is not a redis:// URL is a plan error at its position", async () => {
    const errors = await planErrors("version: 1\ncoordinator: http://redis:6379\ntasks:\n  - { name: a, module: debug, with: { message: x } }\n");
    expect(errors).toEqual(['plan.yml:2:14: coordinator: expected coordinator as a redis:// or rediss:// URL with a host, like redis://host:6379 or redis://host:6379/0, got "http://redis:6379"']);
  });
});
