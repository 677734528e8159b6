/** Facts about this process that telemetry reports. */
import process from "node:process";

/** Peak resident set size of this process so far, in bytes. */
export function peakRssBytes(): number {
  try {
    return process.resourceUsage().maxRSS * 1024;
  } catch {
    return process.memoryUsage().rss;
  }
}
