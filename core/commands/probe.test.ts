import { describe, expect, test } from "bun:test";
import { UsageError } from "../errors.ts";
import { probeCommand } from "./probe.ts";
import { formatProbe, printProbe } from "./probe_output.ts";

describe("probeCommand", () => {
  test("reports device, cores and memory for the working directory; human and JSON forms", async () => {
    const r = await probeCommand(".");
    expect(r.cores.cores).toBeGreaterThanOrEqual(1);
    expect(r.memory.bytes).toBeGreaterThan(0);
    const text = formatProbe(r);
    for (const label of ["path", "device", "class", "depth", "cores", "memory"]) expect(text).toContain(`\n${label}`.slice(label === "path" ? 1 : 0));
    let json = "";
    printProbe(r, true, (s) => (json += s));
    expect(json.endsWith("\n") && json.indexOf("\n") === json.length - 1).toBe(true);
    expect(JSON.parse(json).device.class).toBe(r.device.class);
  });

  test("bad usage is a UsageError", async () => {
    await expect(probeCommand("/definitely/not/here")).rejects.toBeInstanceOf(UsageError);
    await expect(probeCommand(".", { budgetMs: 100 })).rejects.toThrow("--budget only applies with --calibrate");
    await expect(probeCommand(".", { calibrate: true, budgetMs: 0 })).rejects.toBeInstanceOf(UsageError);
  });
});
