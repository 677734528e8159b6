/**
 * An instance's key in the journal: what must be equal for an earlier `ok`
 * to stand for this instance. Plan name, task, host, item, the input the
 * module would be given (after templating), the module's identity, and —
 * hashed with the journal's salt, never in clear — the secret values it uses.
 * Any change to one of them is a different key, so the instance runs again.
 */
import { createSha256, sha256 } from "../runtime/sha256.ts";

export interface KeyParts {
  plan: string;
  task: string;
  host: string;
  item: unknown;
  /** The resolved input (templates rendered). */
  input: unknown;
  /** moduleIdentity(): a built-in's name and fanout's version, or a plugin's path and content hash. */
  module: string;
  /** Plan vars, for modules that can read them (ctx.vars) beyond what templates put in the input; else undefined. */
  vars?: unknown;
  /** secretsDigest() of the secret values the instance uses; "" for none. */
  secrets: string;
}

/** sha256 of the parts, base64url (43 characters). */
export function instanceKey(p: KeyParts): string {
  const text = JSON.stringify([p.plan, p.task, p.host, p.item ?? null, p.input ?? null, p.module, p.vars ?? null, p.secrets]);
  return sha256(text);
}

/**
 * A digest of secret values, salted with the journal's own random salt: the
 * journal file holds this, so a value can be neither read back nor checked
 * against a guess without the salt of that very file. "" for no values.
 * Order matters: pass the values in a stable order (e.g. by secret name).
 */
export function secretsDigest(salt: string, values: readonly string[]): string {
  if (values.length === 0) return "";
  const h = createSha256().update(salt);
  // Length-prefixed, so ["ab", "c"] and ["a", "bc"] differ.
  for (const value of values) h.update(`\u0000${value.length}\u0000`).update(value);
  return h.digest();
}
