/**
 * `--summary FILE`: run_end's summary as one JSON document, written whole
 * (report_file.ts) once the run has ended — after Ctrl-C and on a failed run
 * too — for scripts that want the totals without reading the event stream.
 */
import type { EventSink, FanoutEvent, RunSummary } from "./events.ts";
import { forReport, writeAtomically } from "./report_file.ts";

export class SummaryFileSink implements EventSink {
  private summary: RunSummary | undefined;

  /** `onError` hears of a file that could not be written at the end (a full disk). */
  constructor(private readonly path: string, private readonly onError: (error: Error) => void) {}

  write(event: FanoutEvent): void {
    if (event.type === "run_end") this.summary = forReport(event.summary);
  }

  close(): void {
    if (this.summary === undefined) return;
    try {
      writeAtomically(this.path, JSON.stringify(this.summary, null, 2) + "\n");
    } catch (e) {
      this.onError(e as Error);
    }
  }
}
