/**
 * `--output tag|grouped`: what each instance's commands wrote, for people.
 *
 * - `tag`: every line as the command writes it, after the instance id and a
 *   tab, like `parallel --tag --line-buffer` (tagged_lines.ts: told the
 *   output by ctx.exec as it is read, not through events).
 * - `grouped`: each instance's output as one block, untouched, when the
 *   instance ends (the output its module captured: `data.stdout` and
 *   `data.stderr` in its task_end, bounded by the capture limit), like
 *   `parallel --group`: blocks of different instances never interleave.
 *   This sink.
 *
 * Not with `--json` (stdout carries only NDJSON there; the same text is in
 * task_end's `data`): run_action.ts refuses the combination.
 */
import type { EventSink, FanoutEvent } from "./events.ts";

export type OutputMode = "tag" | "grouped";
export const OUTPUT_MODES: readonly OutputMode[] = ["tag", "grouped"];

export class GroupedOutputSink implements EventSink {
  constructor(
    private readonly out: (text: string) => void,
    private readonly err: (text: string) => void,
  ) {}

  write(event: FanoutEvent): void {
    if (event.type !== "task_end") return;
    const { stdout, stderr } = event.data ?? {};
    if (typeof stdout === "string" && stdout !== "") this.out(block(stdout));
    if (typeof stderr === "string" && stderr !== "") this.err(block(stderr));
  }
}

const block = (text: string) => (text.endsWith("\n") ? text : text + "\n");
