/** The dashboard drawn on fanout's stderr, sized by the terminal there (80×24 when it is not one: --progress always). */
import { realClock } from "../../runtime/clock.ts";
import { writeStderr } from "../../runtime/stderr.ts";
import { backgroundInterval, onTerminalResize, terminalSize } from "../../runtime/terminal.ts";
import { DashboardSink } from "./sink.ts";

const FALLBACK = { columns: 80, rows: 24 };

export function openDashboard(options: { color: boolean; verbose?: boolean }): DashboardSink {
  return new DashboardSink({
    write: writeStderr,
    size: () => terminalSize(2) ?? FALLBACK,
    onResize: onTerminalResize,
    every: backgroundInterval,
  }, { ...options, clock: realClock });
}
