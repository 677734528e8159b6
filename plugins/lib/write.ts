/**
 * Writing side of the file modules: a new file filled by a producer of
 * positioned chunks, optionally made durable, and a directory fsync so a
 * rename into it survives a power cut.
 */
import type { Buffer } from "node:buffer";
import { link, open, stat } from "node:fs/promises";

export type WriteChunk = (chunk: Buffer, position: number) => Promise<void>;

/**
 * Creates `path` (it must not exist: "wx"), lets `fill` write into it, sets
 * `mode`, fsyncs when asked, and closes it however `fill` ends. Resolves
 * with what `fill` resolved with.
 */
export async function writeAll<T>(path: string, mode: number, fsync: boolean, fill: (write: WriteChunk) => Promise<T>): Promise<T> {
  // 0o600 while incomplete; the source's mode once the bytes are all there.
  const file = await open(path, "wx", 0o600);
  try {
    const result = await fill(async (chunk, position) => {
      // A write may be short; the rest follows at the right offset.
      for (let done = 0; done < chunk.length;) {
        const { bytesWritten } = await file.write(chunk, done, chunk.length - done, position + done);
        done += bytesWritten;
      }
    });
    await file.chmod(mode);
    if (fsync) await file.sync();
    return result;
  } finally {
    await file.close();
  }
}

/** fsync a directory, making a rename or link within it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function exists(path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false);
}

/** Places `temp` at `path` only if nothing is there (link fails with EEXIST, atomically). */
export async function linkNew(temp: string, path: string): Promise<boolean> {
  try {
    await link(temp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}
