/** The copy module: identical bytes, atomic placement, no partial file after an abort, overwrite rules. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, closeSync, mkdirSync, ftruncateSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import copy from "./copy.ts";
import { bareContext, EDGE_SIZES, releaseFifoReaders, removeScratchDirs, runPlanIn, scratchDir, specialFiles, toolDigest, within, writeRandomFiles } from "./lib/test_files.ts";

afterAll(removeScratchDirs);

const input = (src: string, dest_dir: string, more: { overwrite?: boolean; fsync?: boolean } = {}) => ({
  src,
  dest_dir,
  overwrite: more.overwrite ?? true,
  fsync: more.fsync ?? false,
  algorithm: "sha256" as const,
  direction: "push" as const,
});

/** A sparse file: large to stream, free on disk. */
function sparseFile(path: string, size: number): string {
  const fd = openSync(path, "w");
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
}

/** Starts a copy and aborts it once its temporary file holds some bytes: truly mid-copy. Resolves or rejects as the copy does. */
async function abortMidCopy(src: string, dest: string): Promise<unknown> {
  const controller = new AbortController();
  let settled = false;
  const running = Promise.resolve(copy.run(input(src, dest), bareContext(dest, controller.signal)));
  running.finally(() => (settled = true)).catch(() => {});
  while (!settled) {
    const temp = readdirSync(dest).find((name) => name.endsWith(".partial"));
    if (temp && statSync(join(dest, temp), { throwIfNoEntry: false })?.size) {
      controller.abort(new Error("cancelled by test"));
      break;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return await running;
}

describe("copy module", () => {
  test("a glob plan copies every edge size byte for byte into a dest_dir relative to the plan, keeping names and modes", async () => {
    const dir = scratchDir();
    const paths = writeRandomFiles(join(dir, "data"), EDGE_SIZES);
    chmodSync(paths["one.csv"]!, 0o640);
    const { code, ends, end } = await runPlanIn(dir, `version: 1
tasks:
  - name: cp
    module: copy
    items_from: { glob: "data/*.csv" }
    with: { src: "{{ item }}", dest_dir: out/, fsync: true }
`);
    expect(code).toBe(0);
    for (const [name, src] of Object.entries(paths)) {
      const dest = join(dir, "out", name);
      expect(readFileSync(dest).equals(readFileSync(src))).toBe(true);
      expect(statSync(dest).mode & 0o777).toBe(statSync(src).mode & 0o777);
      const e = ends.find((x) => x.item === src)!;
      expect([e.status, e.changed, e.bytes]).toEqual(["ok", true, EDGE_SIZES[name]!]);
      expect(e.data).toEqual({ path: dest, src, bytes: EDGE_SIZES[name], digest: toolDigest("sha256sum", src), algorithm: "sha256" });
    }
    expect(readdirSync(join(dir, "out")).sort()).toEqual(Object.keys(EDGE_SIZES).sort());
    expect(end.summary.bytes).toBe(Object.values(EDGE_SIZES).reduce((a, b) => a + b, 0));
  });

  test("a copy aborted mid-file leaves no partial file in dest_dir, and the old destination intact", async () => {
    const dir = scratchDir();
    const src = sparseFile(join(dir, "big.bin"), 1024 * 1024 * 1024);
    const dest = join(dir, "out");
    mkdirSync(dest);
    await expect(abortMidCopy(src, dest)).rejects.toThrow("cancelled by test");
    expect(readdirSync(dest)).toEqual([]);

    writeFileSync(join(dest, "big.bin"), "old");
    await expect(abortMidCopy(src, dest)).rejects.toThrow("cancelled by test");
    expect(readdirSync(dest)).toEqual(["big.bin"]);
    expect(readFileSync(join(dest, "big.bin"), "utf8")).toBe("old");
  });

  test("an already aborted signal creates nothing", async () => {
    const dir = scratchDir();
    const { f } = writeRandomFiles(dir, { f: 1000 });
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(copy.run(input(f!, join(dir, "out")), bareContext(dir, controller.signal))).rejects.toThrow("stop");
    expect(readdirSync(dir)).toEqual(["f"]);
  });

  test("overwrite: true replaces the destination; overwrite: false leaves it and reports unchanged", async () => {
    const dir = scratchDir();
    const { f } = writeRandomFiles(join(dir, "src"), { f: 70_000 });
    const out = join(dir, "out");
    const first = await copy.run(input(f!, out), bareContext(dir));
    expect(first && first.changed).toBe(true);
    writeFileSync(join(out, "f"), "edited");
    const kept = await copy.run(input(f!, out, { overwrite: false }), bareContext(dir));
    expect(kept && [kept.changed, kept.bytes, kept.data?.skipped]).toEqual([false, 0, "exists"]);
    expect(readFileSync(join(out, "f"), "utf8")).toBe("edited");
    const replaced = await copy.run(input(f!, out, { overwrite: true }), bareContext(dir));
    expect(replaced && replaced.changed).toBe(true);
    expect(readFileSync(join(out, "f")).equals(readFileSync(f!))).toBe(true);
    expect(readdirSync(out)).toEqual(["f"]);
  });

  test("copying a file onto itself is refused", async () => {
    const dir = scratchDir();
    const { f } = writeRandomFiles(dir, { f: 10 });
    await expect(copy.run(input(f!, dir), bareContext(dir))).rejects.toThrow("dest_dir is the file's own directory");
  });

  test("a FIFO, a socket or a device as src fails at once with 'not a regular file', creating nothing", async () => {
    const dir = scratchDir();
    const special = await specialFiles(dir);
    try {
      const plan = `version: 1\ntasks:\n  - { name: cp, module: copy, items: ${JSON.stringify([special.fifo, special.socket, special.device])}, with: { src: "{{ item }}", dest_dir: out } }\n`;
      const { code, ends } = await within(10_000, "copy of a FIFO, a socket and a device", runPlanIn(dir, plan));
      expect(code).toBe(1);
      expect(Object.fromEntries(ends.map((e) => [e.item, [e.status, e.error]]))).toEqual({
        [special.fifo]: ["failed", `${special.fifo}: not a regular file (a FIFO)`],
        [special.socket]: ["failed", `${special.socket}: not a regular file (a socket)`],
        [special.device]: ["failed", "/dev/zero: not a regular file (a device)"],
      });
      expect(readdirSync(dir)).not.toContain("out");
    } finally {
      releaseFifoReaders(special.fifo);
      special.close();
    }
  }, 20_000);
});
