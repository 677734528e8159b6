/**
 * copy: copies one file into dest_dir under its own name. On an ssh host,
 * `direction: push` (the default) sends a local src into dest_dir on the
 * host and `direction: fetch` brings the host's src into a local dest_dir
 * (lib/remote_copy.ts); on a local host both are the local copy below. The bytes go to a
 * temporary name in dest_dir first and are renamed into place, so the
 * destination name only ever holds a complete file: an abort or a crash
 * mid-copy leaves the old file (or none), never half a new one. Streams
 * through one pooled 256 KiB buffer; the digest of what was written comes
 * back for verification.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { defineModule, TaskFailure } from "../core/sdk.ts";
import * as v from "../core/deps_valibot.ts";
import { AlgorithmSchema } from "./lib/hash.ts";
import { readChunks, statRegularFile } from "./lib/read_chunks.ts";
import { fetchFile, pushFile } from "./lib/remote_copy.ts";
import { exists, fsyncDir, linkNew, writeAll } from "./lib/write.ts";

const CopyInput = v.strictObject({
  src: v.pipe(v.string("expected src as a path"), v.minLength(1, "expected src to name a file")),
  dest_dir: v.pipe(v.string("expected dest_dir as a directory path"), v.minLength(1, "expected dest_dir to name a directory")),
  fsync: v.optional(v.boolean("expected fsync: true or false"), false),
  overwrite: v.optional(v.boolean("expected overwrite: true or false"), true),
  algorithm: AlgorithmSchema,
  direction: v.optional(v.picklist(["push", "fetch"], "expected direction: push or fetch"), "push"),
});

export default defineModule<v.InferOutput<typeof CopyInput>>({
  description: "Copy a file into a directory, atomically (temp name, then rename); to an ssh host or back",
  parallelizationHint: "fully_parallel",
  resources: { io: 1, io_pattern: "sequential" },
  input: CopyInput,
  async run(input, ctx) {
    if (ctx.ssh) return await (input.direction === "fetch" ? fetchFile : pushFile)(input, ctx, ctx.ssh);
    ctx.signal.throwIfAborted();
    const src = resolve(ctx.planDir, input.src);
    const destDir = resolve(ctx.planDir, input.dest_dir);
    const path = join(destDir, basename(src));
    if (path === src) throw new TaskFailure(`copy ${src}: dest_dir is the file's own directory`);
    // Before anything is created in dest_dir: a FIFO or a device is refused at once.
    // Permission bits only: like cp, a copy does not inherit setuid/setgid.
    const mode = (await statRegularFile(src)).mode & 0o777;
    const skipped = { changed: false, bytes: 0, data: { path, src, bytes: 0, digest: null, algorithm: input.algorithm, skipped: "exists" } };
    if (!input.overwrite && (await exists(path))) return skipped;

    await mkdir(destDir, { recursive: true });
    // A dot name in the same directory: hidden from `ls`, and rename stays within one filesystem.
    const temp = join(destDir, `.${basename(src)}.${randomUUID().slice(0, 8)}.partial`);
    const hash = createHash(input.algorithm);
    try {
      const bytes = await writeAll(temp, mode, input.fsync, (write) =>
        readChunks(src, ctx.signal, async (chunk, position) => {
          hash.update(chunk);
          await write(chunk, position);
        }));
      ctx.signal.throwIfAborted();
      if (input.overwrite) await rename(temp, path);
      else if (!(await linkNew(temp, path))) return skipped; // another writer got there first
      if (input.fsync) await fsyncDir(destDir);
      return { changed: true, bytes, data: { path, src, bytes, digest: hash.digest("hex"), algorithm: input.algorithm } };
    } finally {
      await rm(temp, { force: true }); // gone already after a rename; removes the partial file otherwise
    }
  },
});
