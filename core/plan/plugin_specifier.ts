/**
 * A plugin is a local file: `plugins:` never names a URL or a package
 * registry. Code fetched at run time (`https:`, `npm:`, `jsr:`) could change
 * between two runs of the same plan and would run with the plan's secrets;
 * `data:` hides code inside the plan. A `file:` URL is refused too, with
 * the path to write instead, so that one rule holds: a plugin path is a path.
 */

/** Any `scheme:` prefix; a relative path that merely contains ":" is written ./like:this. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** Why `path` is not accepted as a plugin path, or undefined when it is a local path. */
export function refusedSpecifier(path: string): string | undefined {
  const scheme = SCHEME.exec(path)?.[1]?.toLowerCase();
  if (scheme === undefined) return undefined;
  const local = "plugins are local files: give a path relative to the plan, or an absolute one";
  if (scheme === "file") {
    let hint = "";
    try {
      hint = ` (${new URL(path).pathname})`;
    } catch {
      // A malformed file: URL gets no suggestion.
    }
    return `"${path}" is a file: URL; ${local}${hint}`;
  }
  const what = scheme === "npm" || scheme === "jsr" ? `a ${scheme}: package` : scheme === "http" || scheme === "https" ? `a remote ${scheme}: URL` : `a ${scheme}: specifier`;
  return `"${path}" is ${what}; ${local} (download or vendor it first)`;
}
