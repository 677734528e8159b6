/**
 * The floor for whole-process figures: the least a compiled Bun program must
 * do to run a list of commands N at once. `min_pool <jobs> <list>` runs each
 * non-empty line of <list> (an argv split on spaces) with the same
 * `Bun.spawn` fanout uses, at most <jobs> at a time, output inherited, and
 * exits 1 if any command failed. No plan, no guards, no events, no capture.
 *
 * Compiled at benchmark time with fanout's own `bun build --compile` flags
 * (bench/whole_process.ts); never committed as a binary.
 */
import { readFileSync } from "node:fs";

const jobs = Number(process.argv[2]);
const listFile = process.argv[3];
if (!(jobs >= 1) || !listFile) {
  process.stderr.write("usage: min_pool <jobs> <list>\n");
  process.exit(2);
}
const commands = readFileSync(listFile, "utf8").split("\n").filter((line) => line !== "");
let next = 0;
let failed = 0;

async function worker(): Promise<void> {
  while (next < commands.length) {
    const argv = commands[next++]!.split(" ");
    const child = Bun.spawn({ cmd: argv, stdin: "ignore", stdout: "inherit", stderr: "inherit" });
    if ((await child.exited) !== 0) failed++;
  }
}

await Promise.all(Array.from({ length: Math.min(jobs, commands.length) }, worker));
process.exit(failed > 0 ? 1 : 0);
