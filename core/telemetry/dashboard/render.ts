/**
 * The dashboard's text, as pure functions of what it knows: the live frame
 * (redrawn in place) and the summary left behind at the end. Every line fits
 * in `width - 1` columns, so none wraps and the frame's height is its number
 * of lines; the frame never has more than `height` lines.
 */
import type { GuardLive } from "../../guards/guard_usage.ts";
import type { Status } from "../events.ts";
import { bar, cut, left, painter, type Paint, rate, right, shortDuration } from "./layout.ts";
import { bottleneck, guardRows, waitedMost } from "./rows.ts";
import type { DashboardState } from "./state.ts";

export interface Frame {
  state: DashboardState;
  guards: readonly GuardLive[];
  /** Run time now (ms since run_start). */
  nowMs: number;
  width: number;
  height: number;
  color: boolean;
}

/** Lines of the frame besides guard and instance rows: progress, counts, bottleneck, two headers. */
const FIXED_LINES = 5;
/** Below this width nothing is worth drawing but a shorter bar. */
const MIN_WIDTH = 20;

/** Guard row columns after the name: use/cap, queue, p50, p95. */
const GUARD_COLS = [10, 7, 10, 8] as const;
const MARK = 2;
const MAX_NAME = 40;
/** Ids are cut to this, so that times stay near them on a wide terminal. */
const MAX_ID = 60;

export function renderFrame(f: Frame): string[] {
  const usable = Math.max(MIN_WIDTH, f.width) - 1;
  const paint = painter(f.color);
  const s = f.state;
  const lines = [progressLine(s, f.nowMs, usable, paint), countsLine(s, usable, paint)];
  if (f.height < FIXED_LINES + 2) return lines.slice(0, Math.max(1, f.height));

  const neck = bottleneck(f.guards);
  lines.push(neck
    ? paint("yellow", cut(`bottleneck (${neck.queue} waiting, p95 ${shortDuration(neck.waitP95)}): ${neck.name}`, usable))
    : paint("dim", cut("bottleneck: none, nothing waits for a guard", usable)));

  const { rows, hiddenHosts } = guardRows(f.guards);
  const running = [...s.running.values()];
  // Guards first (they say why), but leave one line for what runs.
  const guardRoom = Math.max(1, f.height - FIXED_LINES - 1);
  const fitsAll = rows.length + (hiddenHosts > 0 ? 1 : 0) <= guardRoom;
  const shownGuards = fitsAll ? rows : keepBottleneck(rows, guardRoom - 1, neck);
  const nameWidth = Math.max(8, Math.min(MAX_NAME, usable - MARK - GUARD_COLS.reduce((a, b) => a + b, 0)));
  lines.push(paint("dim", cut(" ".repeat(MARK) + left("guard", nameWidth) + right("use/cap", GUARD_COLS[0]) + right("queue", GUARD_COLS[1]) + right("wait p50", GUARD_COLS[2]) + right("p95", GUARD_COLS[3]), usable)));
  for (const g of shownGuards) lines.push(guardLine(g, g === neck, nameWidth, usable, paint));
  const hidden = hiddenHosts + rows.length - shownGuards.length;
  if (hidden > 0) lines.push(paint("dim", cut(`  +${hidden} more guard${hidden === 1 ? "" : "s"} in use`, usable)));

  lines.push(paint("dim", cut(`running (${running.length})`, usable)));
  const runRoom = f.height - lines.length;
  const showRunning = running.length > runRoom ? Math.max(0, runRoom - 1) : running.length;
  for (const r of running.slice(0, showRunning)) {
    // The dashboard's clock starts a moment after the scheduler's: never show a start in the future.
    const elapsed = shortDuration(Math.max(0, f.nowMs - r.startedMs)) + (r.attempt > 1 ? ` try ${r.attempt}` : "");
    lines.push(`  ${left(r.id, idWidth(usable, elapsed))} ${paint("dim", elapsed)}`);
  }
  if (showRunning < running.length && lines.length < f.height) lines.push(paint("dim", cut(`  +${running.length - showRunning} more`, usable)));
  return lines;
}

/** Room for an id before ` ${tail}` on a line indented by two. */
function idWidth(usable: number, tail: string): number {
  return Math.max(1, Math.min(MAX_ID, usable - 3 - tail.length));
}

/** The first `n` rows, with the bottleneck among them even when it would not make the cut. */
function keepBottleneck(rows: GuardLive[], n: number, neck: GuardLive | undefined): GuardLive[] {
  const shown = rows.slice(0, Math.max(0, n));
  if (neck && n > 0 && rows.includes(neck) && !shown.includes(neck)) shown[shown.length - 1] = neck;
  return shown;
}

function progressLine(s: DashboardState, nowMs: number, usable: number, paint: Paint): string {
  const pct = s.total > 0 ? Math.floor((100 * s.ended) / s.total) : 100;
  const perSecond = nowMs > 0 ? (s.ended * 1000) / nowMs : 0;
  const left_ = s.total - s.ended;
  const eta = left_ === 0 ? "0ms" : perSecond > 0 ? shortDuration((left_ / perSecond) * 1000) : "-";
  const parts = [`${s.ended}/${s.total}`, `${pct}%`, rate(perSecond), `ETA ${eta}`, shortDuration(nowMs)];
  // Narrow terminals drop the elapsed time, then the rate, before the bar gets shorter than 10.
  while (parts.length > 2 && usable - parts.join(" ").length - 1 < 10) parts.splice(parts.length === 5 ? 4 : 2, 1);
  const text = parts.join(" ");
  const barWidth = Math.min(40, usable - text.length - 1);
  if (barWidth < 4) return cut(text, usable);
  return `${paint("green", bar(s.ended, s.total, barWidth))} ${text}`;
}

const COUNTED: readonly Status[] = ["failed", "timed_out", "unreachable", "skipped", "cancelled", "cached"];

function countsLine(s: DashboardState, usable: number, paint: Paint): string {
  const parts = [`running ${s.running.size}`, `ok ${s.counts.ok}`];
  for (const status of COUNTED) if (s.counts[status] > 0) parts.push(`${status} ${s.counts[status]}`);
  if (s.retries > 0) parts.push(`retries ${s.retries}`);
  const text = cut(parts.join("  "), usable);
  return s.counts.failed + s.counts.timed_out > 0 ? paint("red", text) : text;
}

function guardLine(g: GuardLive, isNeck: boolean, nameWidth: number, usable: number, paint: Paint): string {
  const text = (isNeck ? "> " : "  ") + left(g.name, nameWidth) + right(`${g.inUse}/${g.capacity}`, GUARD_COLS[0]) + right(String(g.queue), GUARD_COLS[1]) +
    right(shortDuration(g.waitP50), GUARD_COLS[2]) + right(shortDuration(g.waitP95), GUARD_COLS[3]);
  const line = cut(text, usable);
  return isNeck ? paint("yellow", line) : g.queue > 0 ? paint("bold", line) : line;
}

/** Columns of the per-task table at the end. */
const TASK_COLS: readonly [Status, string][] = [["ok", "ok"], ["failed", "failed"], ["skipped", "skipped"], ["cached", "cached"], ["timed_out", "timed_out"]];
/** The same columns under short titles, for a terminal too narrow for the long ones. */
const SHORT_TITLES = ["ok", "fail", "skip", "cache", "t/o"];
const MIN_TASK_NAME = 10;
const TIME_COL = 8;

/**
 * What stays on the terminal when the run is over: each task's tally and
 * time, the slowest instances, the guard that made instances wait longest.
 */
export function renderSummary(state: DashboardState, guards: readonly GuardLive[], width: number, color: boolean): string[] {
  const usable = Math.max(MIN_WIDTH, width) - 1;
  const paint = painter(color);
  const long = TASK_COLS.map(([, title]) => title);
  const fits = (titles: string[]) => usable - titles.reduce((sum, t) => sum + Math.max(4, t.length) + 1, 0) - TIME_COL >= MIN_TASK_NAME;
  const titles = fits(long) ? long : SHORT_TITLES;
  const colWidths = titles.map((title) => Math.max(4, title.length) + 1);
  const nameWidth = Math.max(6, Math.min(MAX_NAME, usable - colWidths.reduce((a, b) => a + b, 0) - TIME_COL));
  const lines = [paint("bold", cut(left("task", nameWidth) + titles.map((title, i) => right(title, colWidths[i]!)).join("") + right("time", TIME_COL), usable))];
  for (const t of state.tasks.values()) {
    const span = t.firstStartMs !== undefined && t.lastEndMs !== undefined ? shortDuration(t.lastEndMs - t.firstStartMs) : "-";
    const text = cut(left(t.name, nameWidth) + TASK_COLS.map(([status], i) => right(String(t.counts[status]), colWidths[i]!)).join("") + right(span, TIME_COL), usable);
    lines.push(t.counts.failed + t.counts.timed_out > 0 ? paint("red", text) : text);
  }
  if (state.slowest.length > 0) {
    lines.push(paint("bold", "slowest:"));
    for (const f of state.slowest) {
      const tail = shortDuration(f.durationMs) + (f.status === "ok" ? "" : ` ${f.status}`);
      lines.push(`  ${left(f.id, idWidth(usable, tail))} ${tail}`);
    }
  }
  const most = waitedMost(guards);
  lines.push(cut(most
    ? `waited most (${shortDuration(most.waitedMs)} over ${most.acquisitions} start${most.acquisitions === 1 ? "" : "s"}): ${most.name}`
    : "waited most: no guard made an instance wait", usable));
  return lines;
}
