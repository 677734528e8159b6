/**
 * Text layout for the dashboard: fixed-width cells, a progress bar, colour.
 * Widths count characters; everything the dashboard draws is ASCII apart
 * from ids and names, which are cut to fit.
 */

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
export type Paint = (code: keyof typeof CODES, text: string) => string;

export function painter(color: boolean): Paint {
  return (code, text) => (color && text !== "" ? `\x1b[${CODES[code]}m${text}\x1b[0m` : text);
}

/** `text` cut to `width` characters (the cut marked with "~"). */
export function cut(text: string, width: number): string {
  if (width <= 0) return "";
  if (text.length <= width) return text;
  return width === 1 ? "~" : text.slice(0, width - 1) + "~";
}

/** Left-aligned in exactly `width` characters. */
export function left(text: string, width: number): string {
  return cut(text, width).padEnd(width);
}

/** Right-aligned in exactly `width` characters. */
export function right(text: string, width: number): string {
  return cut(text, width).padStart(width);
}

/** `[#####-----]`, `width` characters in all. */
export function bar(done: number, total: number, width: number): string {
  const inner = Math.max(0, width - 2);
  const filled = total > 0 ? Math.min(inner, Math.floor((inner * done) / total)) : inner;
  return `[${"#".repeat(filled)}${"-".repeat(inner - filled)}]`;
}

/** Short durations for narrow cells: "0ms", "850ms", "12.3s", "4m05s", "2h10m". */
export function shortDuration(ms: number): string {
  if (!(ms >= 0) || !Number.isFinite(ms)) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** "3.1/s", "120/s", "0.05/s". */
export function rate(perSecond: number): string {
  if (!(perSecond > 0)) return "0/s";
  return `${perSecond >= 100 ? Math.round(perSecond) : perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toFixed(2)}/s`;
}
