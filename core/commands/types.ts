/**
 * `fanout types [dir]`: writes fanout.d.ts, the types of everything a plugin
 * may import from "fanout", so an editor checks plugins with no fanout
 * source around (the compiled binary carries the text).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FANOUT_DTS } from "../sdk_types.generated.ts";

/** Writes `<dir>/fanout.d.ts`; returns its absolute path. */
export function typesCommand(dir = "."): string {
  const file = join(resolve(dir), "fanout.d.ts");
  mkdirSync(resolve(dir), { recursive: true });
  writeFileSync(file, FANOUT_DTS);
  return file;
}
