/**
 * machineFacts › the storage device is probed only when its answer is used:
 * when some task declares `io` and no storage type is given. Judged from
 * run_start, as a consumer of the events sees it.
 */
import { describe, expect, test } from "bun:test";
import type { RunStartEvent } from "./telemetry/events.ts";
import { runPlanText } from "./test_helpers.ts";

const PROBED = ["nvme", "ssd", "hdd", "virtual", "unknown"];

async function runStart(yaml: string, options: { ioTokens?: number; parallelism?: number | "auto" } = {}): Promise<RunStartEvent> {
  const log = await runPlanText(yaml, options);
  expect(log.exitCode).toBe(0);
  return log.events[0] as RunStartEvent;
}

const noIo = `version: 1
tasks:
  - { name: a, module: debug, with: { message: x } }
  - { name: b, module: sleep, resources: { cpu: 1 }, with: { duration: 1ms } }
`;

describe("machineFacts › the I/O probe", () => {
  test.each(["auto", 2] as const)("no task declares io (parallelism %p): not probed, said in run_start", async (parallelism) => {
    const start = await runStart(noIo, { parallelism });
    expect(start.io_pools).toEqual({ io: { tokens: 1, storage_type: "not probed", reason: "not probed: no task declares resources: { io }, so no I/O pool is in use" } });
    expect(start.tokens.io).toBe(1);
    expect(start.parallelism).toMatchObject({ storage_type: "not probed", io_depth: 1, io_reason: start.io_pools.io!.reason });
  });

  test("given io tokens are kept, and still not probed", async () => {
    const start = await runStart(noIo, { ioTokens: 5 });
    expect(start.io_pools.io).toEqual({ tokens: 5, storage_type: "not probed", reason: "io tokens 5 given (not probed: no task declares resources: { io })" });
  });

  test("a task that declares io (its own or its module's) has the device probed", async () => {
    const own = await runStart("version: 1\ntasks:\n  - { name: a, module: debug, resources: { io: 1 }, with: { message: x } }\n");
    expect(PROBED).toContain(own.io_pools.io!.storage_type);
    // checksum declares io itself.
    const modules = await runPlanText("version: 1\ntasks:\n  - { name: s, module: checksum, with: { path: f } }\n", {}, { f: "data" });
    expect(PROBED).toContain((modules.events[0] as RunStartEvent).io_pools.io!.storage_type);
  });

  test("a storage type given is used as before, without a probe", async () => {
    const start = await runStart("version: 1\nresources: { storage_type: hdd }\ntasks:\n  - { name: a, module: debug, with: { message: x } }\n");
    expect(start.io_pools.io).toMatchObject({ tokens: 4, storage_type: "hdd" });
  });
});
