import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { tempDir } from "../test_helpers.ts";
import { makeFifo } from "./mkfifo.ts";

/** Runs `body` with a fresh folder, removed afterwards. */
function inTempDir(body: (dir: string) => void): void {
  const dir = tempDir("fanout-mkfifo-");
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("makeFifo", () => {
  test("makes a fifo with the mode asked for", () => {
    inTempDir((dir) => {
      const path = join(dir, "fifo");
      expect(makeFifo(path, 0o600)).toBeUndefined();
      const st = statSync(path);
      expect(st.isFIFO()).toBe(true);
      expect(st.mode & 0o777).toBe(0o600);
    });
  });

  test("says why when it cannot: the path exists, the folder does not", () => {
    inTempDir((dir) => {
      const path = join(dir, "fifo");
      expect(makeFifo(path)).toBeUndefined();
      expect(makeFifo(path)).toMatch(/exists/i);
      expect(makeFifo(join(dir, "missing", "fifo"))).toMatch(/no such file/i);
    });
  });

  test("preloadFifoMaker loads libc's mkfifo in the background; the fifo then needs no mkfifo program on PATH", () => {
    inTempDir((dir) => {
      const path = join(dir, "fifo");
      // A fresh process: nothing has loaded bun:ffi yet.
      const script = `import { makeFifo, preloadFifoMaker } from ${JSON.stringify(resolve(import.meta.dirname, "mkfifo.ts"))};
const ready = await preloadFifoMaker();
process.env.PATH = "";
console.log(ready, makeFifo(process.argv[1], 0o600) ?? "made");`;
      const r = spawnSync(process.execPath, ["-e", script, path], { encoding: "utf8" });
      expect(r.stdout.trim()).toBe("true made");
      expect(statSync(path).isFIFO()).toBe(true);
    });
  });
});
