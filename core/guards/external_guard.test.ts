/**
 * A guard whose room is granted from outside — the shape a shared backend
 * (leases from Redis, say) takes — plugs into a real run through the Guard
 * interface alone, and its waiters start when it says room appeared.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { buildGraph } from "../graph.ts";
import { loadPlan } from "../plan/load.ts";
import { Scheduler } from "../scheduler.ts";
import type { FanoutEvent } from "../telemetry/events.ts";
import { writeFiles } from "../test_helpers.ts";
import type { Guard } from "./guard.ts";
import { GuardSet } from "./guard_set.ts";

/** Holds no room until a lease is granted; each lease admits one instance. */
class LeasedGuard implements Guard {
  readonly kind = "host" as const;
  readonly capacity = 1;
  readonly external = true;
  leases = 0;
  constructor(readonly name: string, private readonly set: GuardSet) {}
  grant(): void {
    this.leases++;
    this.set.roomAppeared(this);
  }
  tryAcquire(amount: number): boolean {
    if (this.leases < amount) return false;
    this.leases -= amount;
    return true;
  }
  release(): void {}
  available(): number {
    return this.leases;
  }
  readyAt(amount: number, now: number): number {
    return this.leases >= amount ? now : Infinity;
  }
}

test("GuardSet.roomAppeared › waiters of an externally granted guard start when it grants", async () => {
  const dir = writeFiles({
    "plan.yml": `version: 1
tasks:
  - { name: shared, module: debug, hint: { kind: host_exclusive, key: remote }, items: [1, 2], with: { message: x } }
  - { name: local, module: debug, with: { message: x }, needs: [] }
`,
  });
  const plan = await loadPlan(join(dir, "plan.yml"));
  const guards = new GuardSet({ cpu: 1, io: [{ name: "io", capacity: 1, sequentialIoWeight: 1 }] });
  const remote = guards.add(new LeasedGuard("host:remote", guards));
  const events: FanoutEvent[] = [];
  const scheduler = new Scheduler({ plan, graph: buildGraph(plan), forks: 4, guards, failFast: false, emit: (e) => events.push(e) });
  const done = scheduler.run();
  await new Promise((r) => setTimeout(r, 30));
  const startedIds = () => events.filter((e) => e.type === "task_start").map((e) => (e as { id: string }).id);
  expect(startedIds()).toEqual(["local[localhost]"]);
  remote.grant();
  await new Promise((r) => setTimeout(r, 30));
  expect(startedIds()).toEqual(["local[localhost]", "shared[localhost][1]"]);
  remote.grant();
  await done;
  expect(startedIds()).toEqual(["local[localhost]", "shared[localhost][1]", "shared[localhost][2]"]);
});
