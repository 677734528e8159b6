/**
 * Told a child's output as it is read, besides the capture into the result:
 * for `--output tag`, which shows each line as it comes. Not part of the
 * plugin SDK: the run hands one to every ctx.exec (core/run_task.ts). Only
 * a spawn given one does any work per chunk beyond the capture.
 */
export interface OutputObserver {
  /** One chunk as read from the child's stdout or stderr (never kept by the caller afterwards). */
  chunk(stream: "stdout" | "stderr", bytes: Uint8Array): void;
  /** Both streams have reached their end: called once, before exec settles. */
  end(): void;
}
