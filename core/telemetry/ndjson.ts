/**
 * NDJSON on a stream: one event per line. Lines are batched into large
 * writes (a run of 100,000 instances writes 200,000 lines); a closed pipe
 * (`| head`) silences the sink instead of failing the run.
 */
import type { EventSink, FanoutEvent } from "./events.ts";

const FLUSH_AT = 64 * 1024;

export interface Writable {
  write(chunk: string, callback?: (error?: Error | null) => void): boolean;
  once?(event: "drain", listener: () => void): unknown;
}

export class NdjsonSink implements EventSink {
  private buffer = "";
  private broken = false;
  /** The flush that trickling events wait for; cleared by any flush, so none outlives close(). */
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A write handed to the stream has not called back yet. */
  private busy = false;
  /** Chunks waiting for that write, in order. */
  private queue: string[] = [];
  /** close() callers waiting for the last write. */
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly out: Writable) {}

  write(event: FanoutEvent): void {
    if (this.broken) return;
    let line: string;
    try {
      line = JSON.stringify(event);
    } catch {
      line = JSON.stringify({ ...event, data: { error: "data was not JSON-serialisable" } });
    }
    this.buffer += line + "\n";
    // run_start goes out at once: whatever happens next, the stream is never empty.
    if (this.buffer.length >= FLUSH_AT || event.type === "run_start") this.flush();
    // Flush soon even when events trickle, so `| jq` sees progress live.
    else this.timer ??= setTimeout(() => this.flush(), 20);
  }

  /**
   * Hands the buffer to the stream now when no earlier write is still in
   * flight — synchronously, so run_start is out before any module code can
   * write to stdout itself — else queues it behind that write, in order.
   */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer === "" || this.broken) return;
    const chunk = this.buffer;
    this.buffer = "";
    if (this.busy) this.queue.push(chunk);
    else this.send(chunk);
  }

  private send(chunk: string): void {
    this.busy = true;
    const next = (error?: Error | null) => {
      if (error) this.broken = true;
      const more = this.queue.shift();
      if (more !== undefined && !this.broken) return this.send(more);
      this.queue = [];
      this.busy = false;
      for (const done of this.waiting.splice(0)) done();
    };
    try {
      this.out.write(chunk, next);
    } catch {
      next(new Error("write failed"));
    }
  }

  async close(): Promise<void> {
    this.flush();
    if (this.busy) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
}

/** Keeps every event in memory: for tests and benchmarks. */
export class MemorySink implements EventSink {
  readonly events: FanoutEvent[] = [];
  write(event: FanoutEvent): void {
    this.events.push(event);
  }
}
