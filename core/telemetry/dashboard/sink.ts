/**
 * The live dashboard on stderr: a frame redrawn in place at most 10 times a
 * second (progress, guards, what runs), with lines that must stay (failures,
 * retries, warnings: the human output's, for those) written above it, and a
 * summary left behind at the end.
 *
 * In place: after each frame the cursor sits at the start of the line below
 * it; the next write moves up over the frame, clears to the end of the
 * screen, writes what must stay, then the new frame. After a resize the old
 * frame's lines may have been rewrapped to the new width, and the move up
 * counts them that way.
 */
import type { GuardLive } from "../../guards/guard_usage.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { EventSink, FanoutEvent } from "../events.ts";
import { HumanSink } from "../human.ts";
import { renderFrame, renderSummary } from "./render.ts";
import { DashboardState } from "./state.ts";

/** At most 10 frames a second. */
export const FRAME_MS = 100;

export interface DashboardTerminal {
  write(text: string): void;
  size(): { columns: number; rows: number };
  /** Subscribes to resizes; returns the unsubscribe. */
  onResize(listener: () => void): () => void;
  /** A repeating timer that does not keep the process alive; returns its stop. */
  every(fn: () => void, ms: number): () => void;
}

export interface DashboardOptions {
  color: boolean;
  verbose?: boolean;
  clock: Clock;
}

const UP = (n: number) => (n > 0 ? `\r\x1b[${n}A` : "\r");
const CLEAR_BELOW = "\x1b[J";

export class DashboardSink implements EventSink {
  private readonly state = new DashboardState();
  private readonly human: HumanSink;
  private guardsNow: () => readonly GuardLive[] = () => [];
  /** Text to write above the frame at the next draw. */
  private above = "";
  /** Lengths of the lines of the frame on screen now. */
  private drawn: number[] = [];
  private width: number;
  private height: number;
  private startedAt = 0;
  private lastFrame = "";
  private stopTimer: (() => void) | undefined;
  private stopResize: (() => void) | undefined;
  private ended = false;

  constructor(private readonly term: DashboardTerminal, private readonly options: DashboardOptions) {
    this.human = new HumanSink((text) => (this.above += text), { color: options.color, verbose: options.verbose, okLines: false });
    ({ columns: this.width, rows: this.height } = term.size());
  }

  /** How to read the guards' state at each frame (RunOptions.watchGuards). */
  watch(guardsNow: () => readonly GuardLive[]): void {
    this.guardsNow = guardsNow;
  }

  write(event: FanoutEvent): void {
    if (this.ended) return;
    this.state.write(event);
    // What was waiting to go above the frame goes before the summary; run_end's own line after it.
    const waiting = event.type === "run_end" ? this.takeAbove() : "";
    this.human.write(event);
    if (event.type === "run_start") {
      this.startedAt = this.options.clock.now();
      this.stopResize = this.term.onResize(() => this.resized());
      this.stopTimer = this.term.every(() => this.draw(), FRAME_MS);
      this.draw();
    } else if (event.type === "run_end") {
      this.finish(waiting);
    }
  }

  close(): void {
    this.stop();
  }

  private resized(): void {
    const before = this.width;
    ({ columns: this.width, rows: this.height } = this.term.size());
    if (this.width !== before) this.lastFrame = "";
    this.draw();
  }

  /** Rows the frame on screen takes at the current width: a line longer than that was rewrapped. */
  private drawnRows(): number {
    return this.drawn.reduce((rows, length) => rows + Math.max(1, Math.ceil(length / this.width)), 0);
  }

  private draw(): void {
    const lines = renderFrame({ state: this.state, guards: this.guardsNow(), nowMs: this.options.clock.now() - this.startedAt, width: this.width, height: this.height - 1, color: this.options.color });
    const frame = lines.join("\n") + "\n";
    if (frame === this.lastFrame && this.above === "") return;
    this.term.write(UP(this.drawnRows()) + CLEAR_BELOW + this.takeAbove() + frame);
    this.lastFrame = frame;
    this.drawn = lines.map(visibleLength);
  }

  /** The frame gives way to what waited to go above it, the summary, and the human output's last line (counts, warnings). */
  private finish(waiting: string): void {
    this.stop();
    this.ended = true;
    const summary = renderSummary(this.state, this.guardsNow(), this.width, this.options.color).join("\n") + "\n";
    this.term.write(UP(this.drawnRows()) + CLEAR_BELOW + waiting + summary + this.takeAbove());
    this.drawn = [];
  }

  private takeAbove(): string {
    const text = this.above;
    this.above = "";
    return text;
  }

  private stop(): void {
    this.stopTimer?.();
    this.stopResize?.();
    this.stopTimer = this.stopResize = undefined;
  }
}

function visibleLength(line: string): number {
  return line.replace(/\x1b\[[0-9;]*m/g, "").length;
}
