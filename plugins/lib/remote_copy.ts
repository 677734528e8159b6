/**
 * The copy module against an ssh host: `push` sends a local file into a
 * directory on the host, `fetch` brings a file of the host into a local
 * directory. As for a local copy, the bytes land under a dot-named
 * temporary name in the destination directory and are renamed into place
 * only once complete and verified, so the destination name never holds half
 * a file; an abort removes the temporary file. Verified means: the digest
 * computed on the receiving side equals the one computed on the sending
 * side, the remote one by the host's own coreutils (core/ssh/files.ts).
 */
import { randomUUID } from "node:crypto";
import { chmod, mkdir, open, rename, rm } from "node:fs/promises";
import { basename, join, posix, resolve } from "node:path";
import type { TaskContext, TaskResult } from "../../core/module.ts";
import { TaskFailure } from "../../core/sdk.ts";
import { download, placeRemote, remoteExists, remoteFile, remoteName, removeRemote, upload } from "../../core/ssh/files.ts";
import type { SshTarget } from "../../core/ssh/target.ts";
import { type Algorithm, digestFile } from "./hash.ts";
import { statRegularFile } from "./read_chunks.ts";
import { exists, fsyncDir, linkNew } from "./write.ts";

export interface CopyRequest {
  src: string;
  dest_dir: string;
  fsync: boolean;
  overwrite: boolean;
  algorithm: Algorithm;
}

const tempName = (name: string) => `.${name}.${randomUUID().slice(0, 8)}.partial`;

function skipped(path: string, src: string, algorithm: Algorithm): TaskResult {
  return { changed: false, bytes: 0, data: { path, src, bytes: 0, digest: null, algorithm, skipped: "exists" } };
}

function mismatch(what: string, got: string, expected: string, from: string): TaskFailure {
  return new TaskFailure(`${what}: digest ${got} differs from ${expected} of ${from} (did it change during the copy?)`);
}

/** Local `src` → `dest_dir` on the host. `fsync` does not apply: the remote side is sftp's to write. */
export async function pushFile(input: CopyRequest, ctx: TaskContext, target: SshTarget): Promise<TaskResult> {
  const { signal } = ctx;
  signal.throwIfAborted();
  const src = resolve(ctx.planDir, input.src);
  const path = posix.join(input.dest_dir, basename(src));
  const mode = (await statRegularFile(src)).mode & 0o777;
  // Without overwrite, an existing file is not sent at all (the rename below refuses one that appears meanwhile).
  if (!input.overwrite && (await remoteExists(target, path, signal))) return skipped(path, src, input.algorithm);

  const temp = posix.join(input.dest_dir, tempName(basename(src)));
  let placed = false;
  try {
    // Both run to their end before anything else happens, so the cleanup below never races the upload.
    const [local, sent] = await Promise.allSettled([digestFile(src, input.algorithm, signal), upload(target, src, input.dest_dir, temp, mode, signal)]);
    if (local.status === "rejected") throw local.reason;
    if (sent.status === "rejected") throw sent.reason;
    signal.throwIfAborted();
    const result = await placeRemote(target, temp, path, { algorithm: input.algorithm, digest: local.value.digest, overwrite: input.overwrite }, signal);
    placed = true; // placeRemote removed or renamed the temp file
    if (!result.placed && result.reason === "exists") return skipped(path, src, input.algorithm);
    if (!result.placed) throw mismatch(remoteName(target, path), result.digest, local.value.digest, src);
    const { bytes, digest } = local.value;
    return { changed: true, bytes, data: { path, src, bytes, digest, algorithm: input.algorithm } };
  } finally {
    if (!placed) await removeRemote(target, temp);
  }
}

/** `src` on the host → local `dest_dir`. A missing remote file fails before anything is created locally. */
export async function fetchFile(input: CopyRequest, ctx: TaskContext, target: SshTarget): Promise<TaskResult> {
  const { signal } = ctx;
  signal.throwIfAborted();
  const src = input.src;
  const name = posix.basename(src);
  const destDir = resolve(ctx.planDir, input.dest_dir);
  const path = join(destDir, name);
  const remote = await remoteFile(target, src, input.algorithm, signal);
  if (!input.overwrite && (await exists(path))) return skipped(path, src, input.algorithm);

  await mkdir(destDir, { recursive: true });
  const temp = join(destDir, tempName(name));
  try {
    await download(target, src, temp, signal);
    await chmod(temp, remote.mode);
    if (input.fsync) await fsyncFile(temp);
    const local = await digestFile(temp, input.algorithm, signal);
    if (local.digest !== remote.digest) throw mismatch(path, local.digest, remote.digest, remoteName(target, src));
    signal.throwIfAborted();
    if (input.overwrite) await rename(temp, path);
    else if (!(await linkNew(temp, path))) return skipped(path, src, input.algorithm);
    if (input.fsync) await fsyncDir(destDir);
    return { changed: true, bytes: local.bytes, data: { path, src, bytes: local.bytes, digest: local.digest, algorithm: input.algorithm } };
  } finally {
    await rm(temp, { force: true }); // gone already after a rename
  }
}

async function fsyncFile(path: string): Promise<void> {
  const file = await open(path, "r");
  try {
    await file.sync();
  } finally {
    await file.close();
  }
}
