/**
 * Progress for people, on stderr. One line per finished instance (for large
 * runs only the ones that did not succeed), retries, warnings from modules,
 * and the summary. Folded from the same events as the NDJSON output.
 */
import { formatBytes, formatDuration } from "../units.ts";
import type { EventFormatters, EventSink, FanoutEvent, Status } from "./events.ts";

/** Above this many instances, successful ones are not listed one by one… */
const LIST_ALL_UP_TO = 500;
/** …and a progress line says how far the run has come, at most this often. */
const PROGRESS_EVERY_MS = 2000;

export interface HumanOptions {
  color: boolean;
  /** Print module `info`/`debug` logs too, not only warnings and errors. */
  verbose?: boolean;
  /** Lines of a failed instance's stderr shown under its line (default STDERR_TAIL_LINES; 0: none). */
  stderrTail?: number;
  /** False: no line for an instance that ended ok or cached, and no progress lines (the dashboard shows those). */
  okLines?: boolean;
}

/** How much of a failed command's stderr the human output repeats: its end, where the reason usually is. */
export const STDERR_TAIL_LINES = 5;

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

export class HumanSink implements EventSink {
  private listAll = true;
  private total = 0;
  private ended = 0;
  private notOk = 0;
  private lastProgress = 0;
  private readonly formatters: EventFormatters<string | undefined>;

  constructor(private readonly write_: (text: string) => void, private readonly options: HumanOptions) {
    const paint = (code: keyof typeof CODES, text: string) => (options.color ? `\x1b[${CODES[code]}m${text}\x1b[0m` : text);
    const statusColor: Record<Status, keyof typeof CODES> = { ok: "green", failed: "red", timed_out: "red", cancelled: "yellow", skipped: "dim", cached: "green", unreachable: "red" };
    this.formatters = {
      run_start: (e) => {
        this.listAll = e.instances <= LIST_ALL_UP_TO;
        this.total = e.instances;
        const p = e.parallelism;
        return paint("bold", `fanout: plan ${e.plan}: ${e.instances} instance${e.instances === 1 ? "" : "s"}, forks ${p.effective} (${p.mode})`);
      },
      task_start: () => undefined,
      task_retry: (e) => paint("yellow", `retry   ${e.id} attempt ${e.attempt} ${e.status}: ${e.error ?? ""} (next in ${formatDuration(e.delay_ms)})`),
      task_end: (e) => {
        this.ended++;
        const ok = e.status === "ok" || e.status === "cached";
        if (!ok) this.notOk++;
        if (ok && this.options.okLines === false) return undefined;
        if (ok && !this.listAll) {
          if (e.t_ms - this.lastProgress < PROGRESS_EVERY_MS || this.ended === this.total) return undefined;
          this.lastProgress = e.t_ms;
          const pct = Math.floor((100 * this.ended) / this.total);
          return paint("dim", `progress  ${this.ended}/${this.total} ended (${pct}%), ${this.notOk} not ok, at ${formatDuration(e.t_ms)}`);
        }
        const status = paint(statusColor[e.status], e.status.padEnd(10));
        const changed = e.status === "ok" && e.changed ? paint("yellow", " changed") : "";
        const error = e.error ? `: ${controlFree(e.error)}` : e.cached_from !== undefined ? paint("dim", ` (ok in run ${e.cached_from})`) : "";
        const line = `${status}${e.id} ${paint("dim", formatDuration(e.duration_ms))}${changed}${error}`;
        const failed = e.status === "failed" || e.status === "timed_out" || e.status === "unreachable";
        return failed ? line + stderrTail(e.data?.stderr, this.options.stderrTail ?? STDERR_TAIL_LINES, (t) => paint("dim", t)) : line;
      },
      log: (e) => {
        if (!this.options.verbose && (e.level === "debug" || e.level === "info")) return undefined;
        const level = e.level === "error" ? paint("red", e.level) : e.level === "warn" ? paint("yellow", e.level) : e.level;
        return `${level.padEnd(5)} ${e.id ?? "fanout"}: ${e.message}`;
      },
      run_end: (e) => {
        const s = e.summary;
        const parts = [`${s.ok} ok`, `${s.failed} failed`];
        if (s.timed_out) parts.push(`${s.timed_out} timed out`);
        if (s.unreachable) parts.push(`${s.unreachable} unreachable (host${s.unreachable_hosts.length === 1 ? "" : "s"} ${s.unreachable_hosts.join(", ")})`);
        if (s.cached) parts.push(`${s.cached} cached`);
        if (s.skipped) parts.push(`${s.skipped} skipped`);
        if (s.cancelled) parts.push(`${s.cancelled} cancelled`);
        if (s.stuck) parts.push(`${s.stuck} stuck`);
        if (s.retries) parts.push(`${s.retries} retries`);
        const bytes = s.bytes > 0 ? `, ${formatBytes(s.bytes)} at ${formatBytes(s.bytes_per_s)}/s` : "";
        const bad = s.failed + s.timed_out + s.cancelled + s.skipped + s.unreachable > 0;
        const line = paint(bad ? "red" : "green", `${s.interrupted ? "interrupted: " : ""}${parts.join(", ")} of ${s.total} in ${formatDuration(s.makespan_ms)}${bytes}`);
        // Said before the run; said again here, where a reader of a long log looks first.
        const warnings = s.warnings.map((w) => `${paint("yellow", "warn ")} ${w}\n`).join("");
        return warnings + line;
      },
    };
  }

  write(event: FanoutEvent): void {
    const text = (this.formatters[event.type] as (e: FanoutEvent) => string | undefined)(event);
    if (text !== undefined) this.write_(text + "\n");
  }
}

/**
 * The last `count` lines of a failed instance's stderr, indented under its
 * line, with a header that says how many of how many are shown. Control
 * characters become U+FFFD: a command's output must not drive the terminal.
 */
export function stderrTail(stderr: unknown, count: number, dim: (text: string) => string): string {
  if (typeof stderr !== "string" || count <= 0) return "";
  const text = stderr.replace(/\r\n/g, "\n").trimEnd();
  if (text === "") return "";
  const lines = text.split("\n");
  const shown = lines.slice(-count);
  const header = shown.length < lines.length ? `stderr (last ${count} of ${lines.length} lines):` : `stderr (all ${lines.length} line${lines.length === 1 ? "" : "s"}):`;
  return ["", `          ${dim(header)}`, ...shown.map((l) => `          ${dim("|")} ${controlFree(l)}`)].join("\n");
}

/** A command's text with its control characters (escape sequences, a stray \r) shown as U+FFFD; tabs and line breaks kept. */
function controlFree(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "\uFFFD");
}
