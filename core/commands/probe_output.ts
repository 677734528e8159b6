/**
 * `fanout probe` output: a labelled listing of every fact read, or one JSON
 * object (one line, so it is also valid NDJSON) with --json.
 */
import type { DiskFacts } from "../probe/disk_facts.ts";
import type { ProbeReport } from "./probe.ts";

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
  let out = line("path", r.path);
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
    out += line("calibrated", `knee ${dev.calibration.knee} on ${dev.calibration.measuredAt}${dev.calibration.direct ? "" : " (buffered: the page cache may have served it; not used for depth)"}`);
  } else {
    out += line("calibrated", "never (fanout probe --calibrate measures this device)");
  }
  const c = r.cores;
  out += line("cores", `${c.cores}: ${c.reason}  (runtime ${c.os}, allowed ${show(c.allowed)}, quota ${c.quota ?? "none"})`);
  const m = r.memory;
  out += line("memory", `${bytes(m.bytes)} available: ${m.reason}`);
  return out;
}

export function printProbe(r: ProbeReport, json: boolean, write: (s: string) => void): void {
  write(json ? JSON.stringify(r) + "\n" : formatProbe(r));
}
