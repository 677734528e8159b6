/**
 * A module-level pool of fixed-size read buffers, shared by the file
 * modules. Reusing them keeps a run of 100,000 files from allocating (and
 * the collector from reclaiming) a fresh buffer per chunk, and bounds memory
 * to one buffer per running instance whatever the file sizes.
 */
import { Buffer } from "node:buffer";

/** 256 KiB: large enough that per-read overhead is small, small enough to stay in cache. */
export const CHUNK_BYTES = 256 * 1024;

/** Idle buffers kept for reuse; beyond this a returned buffer is left to the collector. */
const MAX_IDLE = 64;

const idle: Buffer[] = [];

/** A buffer of CHUNK_BYTES, exclusively the caller's until it is released. */
export function acquireBuffer(): Buffer {
  // allocUnsafeSlow: a buffer of its own, not a slice of Node's shared slab.
  return idle.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
}

/** Returns a buffer from acquireBuffer; the caller must not touch it afterwards. */
export function releaseBuffer(buffer: Buffer): void {
  if (buffer.length !== CHUNK_BYTES) throw new Error("Internal error: releaseBuffer given a buffer not from the pool");
  if (idle.length < MAX_IDLE && !idle.includes(buffer)) idle.push(buffer);
}

/** How many buffers wait for reuse (for tests). */
export function idleBuffers(): number {
  return idle.length;
}
