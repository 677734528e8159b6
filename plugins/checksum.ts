/**
 * checksum: the digest of one file, read in pooled 256 KiB chunks (memory
 * stays flat whatever the file size). It holds one I/O token while it runs
 * and reads sequentially, so the scheduler sizes how many files are read at
 * once to suit the disk.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { defineModule, v } from "../core/mod.ts";
import { AlgorithmSchema } from "./lib/hash.ts";
import { readChunks } from "./lib/read_chunks.ts";

const ChecksumInput = v.strictObject({
  path: v.pipe(v.string("expected path as a string"), v.minLength(1, "expected path to name a file")),
  algorithm: AlgorithmSchema,
});

export default defineModule<v.InferOutput<typeof ChecksumInput>>({
  description: "Digest of a file (sha256, sha512, blake2b512, sha1 or md5)",
  parallelizationHint: "fully_parallel",
  resources: { io: 1, io_pattern: "sequential" },
  input: ChecksumInput,
  async run(input, ctx) {
    const path = resolve(ctx.planDir, input.path);
    const hash = createHash(input.algorithm);
    // update() consumes the chunk synchronously, so the buffer may be reused at once.
    const bytes = await readChunks(path, ctx.signal, (chunk) => void hash.update(chunk));
    const digest = hash.digest("hex");
    return { changed: false, bytes, data: { path, bytes, digest, algorithm: input.algorithm } };
  },
});
