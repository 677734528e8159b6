import { describe, expect, test } from "bun:test";
import type { EventSink } from "../telemetry/events.ts";
import { runPlanText } from "../test_helpers.ts";
import type { GuardLive } from "./guard_usage.ts";

const PLAN = `
version: 1
hosts: [h1]
parallelism: 4
tasks:
  - { name: deploy, module: sleep, hint: host_exclusive, items: [1, 2, 3], with: { duration: 5ms } }
`;

describe("GuardUsage.live (through Scheduler.guardsNow)", () => {
  test("a host lock's holders and queue as they are at each start, and all back to zero at the end", async () => {
    let guardsNow: () => GuardLive[] = () => [];
    const seen: GuardLive[] = [];
    const probe: EventSink = { write: (e) => e.type === "task_start" && seen.push(guardsNow().find((g) => g.name === "host:h1")!) };
    await runPlanText(PLAN, { sinks: [probe], watchGuards: (read) => (guardsNow = read) });
    // The first starts before the others are tried; they then wait, and leave the queue one by one.
    expect(seen.map((g) => [g.inUse, g.queue])).toEqual([[1, 0], [1, 1], [1, 0]]);
    const end = guardsNow();
    expect(end[0]!.name).toBe("forks");
    const host = end.find((g) => g.name === "host:h1")!;
    expect(host).toMatchObject({ kind: "host", capacity: 1, inUse: 0, queue: 0, acquisitions: 3 });
    expect(host.waitedMs).toBeGreaterThan(0);
    expect(host.waitP95).toBeGreaterThan(0);
    for (const g of end) expect([g.name, g.inUse, g.queue]).toEqual([g.name, 0, 0]);
  });
});
