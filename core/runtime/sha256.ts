/**
 * SHA-256 (base64url) and random salts without loading node:crypto where the
 * runtime has its own: Bun's native hasher costs nothing at start-up, while
 * the first import of node:crypto is a large share of a short run's CPU
 * (docs/benchmarks.md). The journal hashes instance keys with it on every run.
 * Elsewhere (Deno) node:crypto is fetched when first needed, not at import.
 */
import { Buffer } from "node:buffer";
import type * as NodeCrypto from "node:crypto";
import process from "node:process";
import { isBun } from "./runtime.ts";

/** An incremental SHA-256. */
export interface Sha256 {
  update(data: string): Sha256;
  /** The digest, base64url (43 characters). */
  digest(): string;
}

let nodeCrypto: typeof NodeCrypto | undefined;
function node(): typeof NodeCrypto {
  return nodeCrypto ??= process.getBuiltinModule("node:crypto") as typeof NodeCrypto;
}

/** sha256 of `text`, base64url. */
export function sha256(text: string): string {
  return createSha256().update(text).digest();
}

export function createSha256(): Sha256 {
  if (isBun) {
    const hasher = new Bun.CryptoHasher("sha256");
    const self: Sha256 = { update: (data) => (hasher.update(data), self), digest: () => hasher.digest("base64url") };
    return self;
  }
  const hash = node().createHash("sha256");
  const self: Sha256 = { update: (data) => (hash.update(data), self), digest: () => hash.digest("base64url") };
  return self;
}

/** `bytes` random bytes, base64url: from the Web Crypto API every runtime has. */
export function randomToken(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}
