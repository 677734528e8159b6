/**
 * Which JavaScript runtime is executing fanout. This is the only place that
 * asks; everything runtime-specific lives under core/runtime/.
 */
declare const Deno: { version: { deno: string } } | undefined;

export type RuntimeName = "bun" | "deno" | "node";

export const runtimeName: RuntimeName = typeof Bun !== "undefined"
  ? "bun"
  : typeof Deno !== "undefined"
  ? "deno"
  : "node";

export const isBun = runtimeName === "bun";

/** "bun 1.4.5", "deno 2.9.6": for run_start and `--version`. */
export function runtimeVersion(): string {
  if (isBun) return `bun ${Bun.version}`;
  if (runtimeName === "deno") return `deno ${Deno!.version.deno}`;
  return `node ${process.versions.node}`;
}

/** True when running as the `bun build --compile` single-file executable. */
export function isCompiledBinary(): boolean {
  return import.meta.url.includes("/$bunfs/") || import.meta.url.includes("B:/~BUN/");
}
