/**
 * The programs the whole-process benchmarks run: dist/fanout (built first
 * when absent or older than the sources), and the floor programs of
 * bench/pool/ compiled by scripts/build.ts exactly as fanout is, so they
 * start as it does.
 */
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildBinary } from "../../scripts/build.ts";
import { fanoutArgv, newestSource, ROOT } from "../lib.ts";

/** dist/fanout, built first when absent or older than the sources; FANOUT_BIN overrides (see lib.ts). */
export function ensureFanout(log: (message: string) => void): { argv: string[]; runner: string; built: boolean } {
  const dist = join(ROOT, "dist", "fanout");
  let built = false;
  if (!process.env.FANOUT_BIN && !(existsSync(dist) && statSync(dist).mtimeMs > newestSource())) {
    log("building dist/fanout (npm run build)");
    const res = spawnSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
    if (res.status !== 0) throw new Error(`npm run build: exit ${res.status ?? res.signal}`);
    built = true;
  }
  return { ...fanoutArgv(), built };
}

/** Compiles bench/pool/<name>.ts into `dir` exactly as fanout is compiled; returns the binary's path. */
export function compileLikeFanout(name: string, dir: string): string {
  const out = join(dir, name);
  buildBinary(out, { quiet: true, entry: join(ROOT, "bench", "pool", `${name}.ts`) });
  return out;
}
