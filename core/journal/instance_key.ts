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
  return new TaskKeyText(p).key(p.host, jsonOf(p.item), jsonOf(p.input), p.secrets);
}

/**
 * What is the same for every instance of a task (plan, task, module, vars),
 * made into text once: an instance's key is then its own parts' text and
 * one hash. The text hashed is JSON.stringify([plan, task, host, item,
 * input, module, vars, secrets]) — the keys in journals already written.
 */
export class TaskKeyText {
  private readonly head: string;
  private readonly tail: string;

  constructor(p: Pick<KeyParts, "plan" | "task" | "module" | "vars">) {
    this.head = `[${JSON.stringify(p.plan)},${JSON.stringify(p.task)},`;
    this.tail = `,${JSON.stringify(p.module)},${jsonOf(p.vars)},`;
  }

  /** `item` and `input` as jsonOf() gives them (the caller may have them already). */
  key(host: string, item: string, input: string, secrets: string): string {
    return sha256(`${this.head}${JSON.stringify(host)},${item},${input}${this.tail}${JSON.stringify(secrets)}]`);
  }
}

/** A value's JSON as it stands in an array: undefined (and what JSON cannot hold) is null. */
export function jsonOf(value: unknown): string {
  return JSON.stringify(value ?? null) ?? "null";
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
