/**
 * checksum: the digest of one file, read in pooled 256 KiB chunks (memory
 * stays flat whatever the file size). It holds one I/O token while it runs
 * and reads sequentially, so the scheduler sizes how many files are read at
 * once to suit the disk. On an ssh host the host's own `sha256sum` (or
 * sha512sum, b2sum, sha1sum, md5sum) reads the file there; a relative path
 * is then relative to the remote user's home.
 */
import { resolve } from "node:path";
import { defineModule } from "../core/sdk.ts";
import * as v from "../core/deps_valibot.ts";
import { remoteFile } from "../core/ssh/files.ts";
import { AlgorithmSchema, digestFile } from "./lib/hash.ts";

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
    if (ctx.ssh) {
      const { bytes, digest } = await remoteFile(ctx.ssh, input.path, input.algorithm, ctx.signal);
      return { changed: false, bytes, data: { path: input.path, bytes, digest, algorithm: input.algorithm } };
    }
    const path = resolve(ctx.planDir, input.path);
    const { bytes, digest } = await digestFile(path, input.algorithm, ctx.signal);
    return { changed: false, bytes, data: { path, bytes, digest, algorithm: input.algorithm } };
  },
});
