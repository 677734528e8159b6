/**
 * `--output tag`: each line a command writes, as soon as the line is whole,
 * after the instance id and a tab (like `parallel --tag --line-buffer`): the
 * command's stdout lines on fanout's stdout, its stderr lines on fanout's
 * stderr. One TaggedLines per ctx.exec call, told the child's output chunk
 * by chunk (runtime/output_observer.ts).
 *
 * Only whole lines are written, each write one or more of them, so lines of
 * instances running at once never mix within a line; and a secret without a
 * line break is never cut between two writes, so the masking on fanout's
 * stdout and stderr (core/secrets/output.ts) sees it whole. What is left
 * after the last line break is written, as a line, when the streams end.
 */
import type { OutputObserver } from "../runtime/output_observer.ts";

/** A line longer than this (in UTF-16 units) goes out in pieces, each a line: the buffer stays bounded. */
export const MAX_LINE_CHARS = 64 * 1024;

/** One stream's partial line. */
class LineBuffer {
  // ignoreBOM: the bytes as the command wrote them, as the captured text has them.
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  private pending = "";

  constructor(private readonly prefix: string, private readonly write: (text: string) => void) {}

  push(bytes: Uint8Array): void {
    const text = this.pending + this.decoder.decode(bytes, { stream: true });
    const last = text.lastIndexOf("\n");
    if (last >= 0) this.write(this.tag(text.slice(0, last)));
    this.pending = text.slice(last + 1);
    if (this.pending.length > MAX_LINE_CHARS) {
      // Not flush(): the decoder may hold the first bytes of a character still to come.
      this.write(this.tag(this.pending));
      this.pending = "";
    }
  }

  /** The stream has ended: what is left is the last line. */
  flush(): void {
    const rest = this.pending + this.decoder.decode();
    this.pending = "";
    if (rest !== "") this.write(this.tag(rest));
  }

  /** `text` (lines without their last line break), each line tagged and ended. */
  private tag(text: string): string {
    if (!text.includes("\n")) return `${this.prefix}${text}\n`;
    return text.split("\n").map((line) => `${this.prefix}${line}\n`).join("");
  }
}

export class TaggedLines implements OutputObserver {
  private readonly prefix: string;
  private stdout?: LineBuffer;
  private stderr?: LineBuffer;

  constructor(id: string, private readonly out: (text: string) => void, private readonly err: (text: string) => void) {
    this.prefix = `${id}\t`;
  }

  chunk(stream: "stdout" | "stderr", bytes: Uint8Array): void {
    if (stream === "stdout") (this.stdout ??= new LineBuffer(this.prefix, this.out)).push(bytes);
    else (this.stderr ??= new LineBuffer(this.prefix, this.err)).push(bytes);
  }

  end(): void {
    this.stdout?.flush();
    this.stderr?.flush();
  }
}
