/**
 * The digest algorithms the file modules offer, and the input schema that
 * rejects one the running runtime's crypto lacks at plan load, before any
 * file is read.
 */
import { createHash } from "node:crypto";
import process from "node:process";
import * as v from "../../core/deps_valibot.ts";
import { readChunks } from "./read_chunks.ts";

export const ALGORITHMS = ["sha256", "sha512", "blake2b512", "sha1", "md5"] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

const supported = new Map<string, boolean>();

/** Whether createHash accepts `algorithm` here (Bun's getHashes() omits some it supports, so try it). */
export function hashSupported(algorithm: string): boolean {
  let ok = supported.get(algorithm);
  if (ok === undefined) {
    try {
      createHash(algorithm);
      ok = true;
    } catch {
      ok = false;
    }
    supported.set(algorithm, ok);
  }
  return ok;
}

function runtimeName(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun) return `Bun ${versions.bun}`;
  if (versions.deno) return `Deno ${versions.deno}`;
  return `Node ${process.versions.node}`;
}

export const AlgorithmSchema = v.optional(
  v.pipe(
    v.picklist(ALGORITHMS, `expected algorithm one of ${ALGORITHMS.join(", ")}`),
    v.check((algorithm: Algorithm) => hashSupported(algorithm), (issue) => `algorithm ${issue.input} is not supported by this runtime (${runtimeName()}): choose another of ${ALGORITHMS.join(", ")}`),
  ),
  "sha256",
);


/** The digest and size of a local file, streamed through one pooled buffer. */
export async function digestFile(path: string, algorithm: Algorithm, signal: AbortSignal): Promise<{ digest: string; bytes: number }> {
  const hash = createHash(algorithm);
  // update() consumes the chunk synchronously, so the buffer may be reused at once.
  const bytes = await readChunks(path, signal, (chunk) => void hash.update(chunk));
  return { digest: hash.digest("hex"), bytes };
}
