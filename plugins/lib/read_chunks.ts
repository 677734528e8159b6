/**
 * Streams a file through one pooled buffer with positioned reads: never the
 * whole file in memory, one read in flight, the instance's signal checked
 * before every read so an abort stops within one chunk. The handle is closed
 * and the buffer returned however the loop ends.
 */
import type { Buffer } from "node:buffer";
import { constants, type Stats } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { TaskFailure } from "../../core/sdk.ts";
import { acquireBuffer, releaseBuffer } from "./buffer_pool.ts";

/**
 * The file's stats, or a TaskFailure when `path` is not a regular file.
 * Checked before anything opens it: opening a FIFO for reading blocks until
 * a writer comes, and opening a device can have effects of its own (a tape
 * rewinds); positioned reads need a regular file anyway.
 */
export async function statRegularFile(path: string): Promise<Stats> {
  const stats = await stat(path);
  if (!stats.isFile()) throw notRegular(path, stats);
  return stats;
}

function notRegular(path: string, stats: Stats): TaskFailure {
  const kind = stats.isDirectory()
    ? "a directory"
    : stats.isFIFO()
    ? "a FIFO"
    : stats.isSocket()
    ? "a socket"
    : stats.isCharacterDevice() || stats.isBlockDevice()
    ? "a device"
    : "not a file";
  return new TaskFailure(`${path}: not a regular file (${kind})`);
}

/**
 * Opens a regular file for reading without ever blocking: O_NONBLOCK makes
 * the open of a FIFO return at once should `path` be swapped for one after
 * the stat, and fstat on the handle then refuses it. O_NONBLOCK does not
 * change reads of a regular file.
 */
async function openRegularFile(path: string): Promise<FileHandle> {
  await statRegularFile(path);
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw notRegular(path, stats);
    return file;
  } catch (error) {
    await file.close();
    throw error;
  }
}

/**
 * Calls `onChunk` with each chunk in order and resolves with the byte count.
 * The chunk is a view of a reused buffer: valid only until `onChunk`'s
 * promise (if any) settles, so consume or copy it before then.
 */
export async function readChunks(
  path: string,
  signal: AbortSignal,
  onChunk: (chunk: Buffer, position: number) => void | Promise<void>,
): Promise<number> {
  signal.throwIfAborted();
  const file = await openRegularFile(path);
  let buffer: Buffer | undefined;
  try {
    buffer = acquireBuffer();
    let position = 0;
    for (;;) {
      signal.throwIfAborted();
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return position;
      await onChunk(buffer.subarray(0, bytesRead), position);
      position += bytesRead;
    }
  } finally {
    if (buffer) releaseBuffer(buffer);
    await file.close();
  }
}
