/**
 * fanout's version (kept in step with package.json by a test) and the commit
 * it was built from. `npm run build` bakes the commit into the binary with
 * `bun build --define FANOUT_COMMIT=…`; from source it is read from the .git
 * beside the source; "unknown" when neither says.
 */
import { gitCommit } from "./git_commit.ts";
import { nodeUrl } from "./runtime/lazy_builtins.ts";
import { isCompiledBinary, runtimeVersion } from "./runtime/runtime.ts";

export const VERSION = "0.1.0";

declare const FANOUT_COMMIT: string | undefined;

let cached: string | undefined;

/** The full commit hash fanout was built from, or "unknown". */
export function commit(): string {
  cached ??= (typeof FANOUT_COMMIT === "string" && FANOUT_COMMIT) || sourceCommit() || "unknown";
  return cached;
}

/** The checkout this file is in: core/version.ts → the repository root. */
function sourceCommit(): string | undefined {
  if (isCompiledBinary()) return undefined;
  try {
    return gitCommit(nodeUrl().fileURLToPath(new URL("..", import.meta.url).href));
  } catch {
    return undefined;
  }
}

/** `fanout 0.1.0 (b5b0f07) bun 1.4.5`: what `fanout --version` prints. */
export function versionLine(): string {
  const c = commit();
  return `fanout ${VERSION} (${c === "unknown" ? c : c.slice(0, 7)}) ${runtimeVersion()}`;
}
