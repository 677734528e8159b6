/**
 * Secrets: what the rest of fanout uses of core/secrets/. A plan's values
 * (for a store that must never hold them in clear, such as the journal's
 * instance key, which hashes them) and the Redactor that masks them.
 *
 * @example
 * ```ts
 * const redactor = redactorFor(plan);
 * redactor.text(`token=${plan.secrets.token}`); // "token=***"
 * secretValues(plan); // ["s3cr3t…"], in the order of secrets:
 * ```
 */
import type { Plan } from "../plan/plan.ts";
import { Redactor } from "./redactor.ts";

export { MASK, MIN_SECRET_LENGTH, Redactor } from "./redactor.ts";
export { maskOutputs } from "./output.ts";

/** The plan's secret values, in the order its `secrets:` lists them. */
export function secretValues(plan: Pick<Plan, "secrets">): string[] {
  return Object.values(plan.secrets ?? {});
}

/** One Redactor per plan, so every caller masks with the same one. */
const redactors = new WeakMap<object, Redactor>();

/** The Redactor of a plan's secrets (Redactor.none when it has none). */
export function redactorFor(plan: Pick<Plan, "secrets">): Redactor {
  const secrets = plan.secrets ?? {};
  let redactor = redactors.get(secrets);
  if (!redactor) redactors.set(secrets, (redactor = Object.keys(secrets).length > 0 ? new Redactor(Object.values(secrets)) : Redactor.none));
  return redactor;
}
