/**
 * `fanout types [dir]`: writes fanout.d.ts, the types of everything a plugin
 * may import from "fanout", so an editor checks plugins with no fanout
 * source around (the compiled binary carries the text).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { FANOUT_DTS } from "../sdk_types.generated.ts";

const WHY: Record<string, string> = {
  EEXIST: "it is not a directory",
  ENOTDIR: "it is not a directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
};

/** Writes `<dir>/fanout.d.ts`; returns its absolute path. A folder it cannot write to is a UsageError. */
export function typesCommand(dir = "."): string {
  const folder = resolve(dir);
  const file = join(folder, "fanout.d.ts");
  try {
    mkdirSync(folder, { recursive: true });
    writeFileSync(file, FANOUT_DTS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    throw new UsageError(`cannot write fanout.d.ts into ${dir}: ${WHY[code] ?? (e as Error).message}`);
  }
  return file;
}
