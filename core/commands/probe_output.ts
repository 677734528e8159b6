/**
 * `fanout probe` output: a labelled listing of every fact read, or one JSON
 * object (one line, so it is also valid NDJSON) with --json. The JSON is a
 * public output: snake_case keys, as the events have, and a schema_version
 * that changes only when a field is renamed or removed.
 */
import { REPRESENTATIVE_BUDGET_MS } from "../probe/calibrate.ts";
import type { DiskFacts } from "../probe/disk_facts.ts";
import type { ProbeReport } from "./probe.ts";

/** The version of `fanout probe --json`'s shape (before it, keys were camelCase and unversioned). */
export const PROBE_SCHEMA_VERSION = 1;

const GiB = 1024 ** 3;

function bytes(n: number | undefined): string {
  if (n === undefined) return "?";
  return n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${(n / 1024 ** 2).toFixed(0)} MiB`;
}

const show = (v: unknown) => (v === undefined ? "?" : typeof v === "boolean" ? String(Number(v)) : String(v));

function line(label: string, text: string): string {
  return `${label.padEnd(12)}${text}\n`;
}

function diskLines(d: DiskFacts): string {
  const ids = [d.vendor, d.model, d.serial && `serial ${d.serial}`].filter(Boolean).join(", ");
  return line("disk", `${d.name} (${show(d.devno)})  driver ${d.driver}${d.driverLink ? ` [${d.driverLink}]` : ""}${ids ? `  ${ids}` : ""}`) +
    line("", `queue/rotational ${show(d.rotational)}  queue/scheduler ${show(d.scheduler)}  queue/logical_block_size ${show(d.logicalBlockSize)}`) +
    line("", `queue/nr_requests ${show(d.nrRequests)} (block-layer pool, not device depth)  device/queue_depth ${show(d.deviceQueueDepth)}  mq/ queues ${show(d.hwQueues)}  size ${bytes(d.sizeBytes)}`);
}

export function formatProbe(r: ProbeReport): string {
  const dev = r.device;
  const res = dev.resolution;
  let out = r.host !== undefined ? line("host", r.host) : "";
  out += line("path", r.path);
  if (r.forgotten) {
    const f = r.forgotten;
    out += line("forgot", f.removed ? `the calibration cached in ${f.removed}` : f.calibrationKey ? `nothing: no calibration cached for ${f.calibrationKey}` : "nothing: no device to key a calibration by");
  }
  const fs = res.filesystem;
  out += line("device", `${res.devno ?? "?"}${fs ? `  ${fs.type} ${fs.source} on ${fs.mountPoint} (${fs.kind})` : ""}`);
  for (const step of res.chain) out += line("via", step);
  for (const d of res.disks) out += diskLines(d);
  if (res.problem) out += line("problem", res.problem);
  out += line("class", `${dev.class}: ${dev.reason}`);
  for (const a of dev.assumptions) out += line("assumed", a);
  out += line("depth", `random ${dev.recommended.random.depth}: ${dev.recommended.random.reason}`);
  out += line("", `sequential ${dev.recommended.sequential.depth}: ${dev.recommended.sequential.reason}`);
  if (r.calibrated) {
    const c = r.calibrated;
    out += line("calibrate", `${c.points.length} depths, ${bytes(c.fileBytes)} file, ${c.blockBytes / 1024} KiB random reads, ${c.direct ? "O_DIRECT" : "buffered"}`);
    for (const p of c.points) out += line("", `depth ${String(p.depth).padStart(2)}  ${p.mibPerSec.toFixed(1).padStart(8)} MiB/s  ${p.reads} reads in ${p.ms} ms`);
    out += line("", `knee ${c.knee} (best at ${c.bestDepth}); cached in ${c.cacheFile ?? "nowhere"}`);
    for (const n of c.notes) out += line("note", n);
  } else if (dev.calibration) {
    const cal = dev.calibration;
    const short = cal.budgetMs < REPRESENTATIVE_BUDGET_MS ? ` (a ${cal.budgetMs} ms budget: may not be representative)` : "";
    out += line("calibrated", `knee ${cal.knee} on ${cal.measuredAt}${short}${cal.direct ? "" : " (buffered: the page cache may have served it; not used for depth)"}`);
  } else {
    out += line("calibrated", "never (fanout probe --calibrate measures this device)");
  }
  const c = r.cores;
  out += line("cores", `${c.cores}: ${c.reason}  (runtime ${c.os}, allowed ${show(c.allowed)}, quota ${c.quota ?? "none"})`);
  const m = r.memory;
  out += line("memory", `${bytes(m.bytes)} available: ${m.reason}`);
  return out;
}

/** "mibPerSec" → "mib_per_sec". */
function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The same value with every object key in snake_case (the report has no keys that are data). */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeCase(k), snakeKeys(v)]));
}

/** The object `fanout probe --json` prints. */
export function probeJson(r: ProbeReport): Record<string, unknown> {
  return { schema_version: PROBE_SCHEMA_VERSION, ...(snakeKeys(r) as Record<string, unknown>) };
}

export function printProbe(r: ProbeReport, json: boolean, write: (s: string) => void): void {
  write(json ? JSON.stringify(probeJson(r)) + "\n" : formatProbe(r));
}
