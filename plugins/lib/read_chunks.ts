/**
 * Streams a file through one pooled buffer with positioned reads: never the
 * whole file in memory, one read in flight, the instance's signal checked
 * before every read so an abort stops within one chunk. The handle is closed
 * and the buffer returned however the loop ends.
 */
import type { Buffer } from "node:buffer";
import { open } from "node:fs/promises";
import { TaskFailure } from "../../core/mod.ts";
import { acquireBuffer, releaseBuffer } from "./buffer_pool.ts";

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
  const file = await open(path, "r");
  let buffer: Buffer | undefined;
  try {
    // Positioned reads need a regular file; say so instead of a bare EISDIR or ESPIPE.
    if (!(await file.stat()).isFile()) throw new TaskFailure(`${path}: not a regular file`);
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
