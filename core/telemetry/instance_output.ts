/**
 * `--output tag|grouped`: what each instance's commands wrote, shown when the
 * instance ends (the output a module captured: `data.stdout` and
 * `data.stderr` in its task_end, bounded by the capture limit).
 *
 * - `tag`: every line prefixed with the instance id and a tab, like
 *   `parallel --tag`: the command's stdout on fanout's stdout, its stderr on
 *   fanout's stderr.
 * - `grouped`: each instance's output as one block, untouched, like
 *   `parallel --group`: blocks of different instances never interleave.
 *
 * Not with `--json` (stdout carries only NDJSON there; the same text is in
 * task_end's `data`): run_action.ts refuses the combination.
 */
import type { EventSink, FanoutEvent } from "./events.ts";

export type OutputMode = "tag" | "grouped";
export const OUTPUT_MODES: readonly OutputMode[] = ["tag", "grouped"];

export class InstanceOutputSink implements EventSink {
  constructor(
    private readonly mode: OutputMode,
    private readonly out: (text: string) => void,
    private readonly err: (text: string) => void,
  ) {}

  write(event: FanoutEvent): void {
    if (event.type !== "task_end") return;
    const { stdout, stderr } = event.data ?? {};
    if (typeof stdout === "string" && stdout !== "") this.out(this.format(event.id, stdout));
    if (typeof stderr === "string" && stderr !== "") this.err(this.format(event.id, stderr));
  }

  private format(id: string, text: string): string {
    const body = text.endsWith("\n") ? text : text + "\n";
    if (this.mode === "grouped") return body;
    return body.slice(0, -1).split("\n").map((line) => `${id}\t${line}\n`).join("");
  }
}
