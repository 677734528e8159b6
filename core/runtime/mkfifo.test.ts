import { describe, expect, test } from "bun:test";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { makeFifo } from "./mkfifo.ts";

describe("makeFifo", () => {
  test("makes a fifo with the mode asked for", () => {
    const dir = tempDir("fanout-mkfifo-");
    try {
      const path = join(dir, "fifo");
      expect(makeFifo(path, 0o600)).toBeUndefined();
      const st = statSync(path);
      expect(st.isFIFO()).toBe(true);
      expect(st.mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("says why when it cannot: the path exists, the folder does not", () => {
    const dir = tempDir("fanout-mkfifo-");
    try {
      const path = join(dir, "fifo");
      expect(makeFifo(path)).toBeUndefined();
      expect(makeFifo(path)).toMatch(/exists/i);
      expect(makeFifo(join(dir, "missing", "fifo"))).toMatch(/no such file/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
