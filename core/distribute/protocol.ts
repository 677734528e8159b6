/**
 * What a distributed run keeps in Redis, and the messages that go through
 * it. One run, under the coordinator's prefix P and the run's id R:
 *
 * - `P runs`             a set: the ids of runs workers may join;
 * - `P run:R:spec`       the published run (RunSpec, JSON), expiring unless the
 *                        submitter renews it: a run whose submitter died ends;
 * - `P bundle:H`         a plugin's bundled code, by its content hash H;
 * - `P run:R:queue`      a stream of Dispatch entries, read by the consumer
 *                        group "workers": an entry claimed and not acknowledged
 *                        is a lease; idle longer than the lease, any worker may
 *                        take it over (XAUTOCLAIM);
 * - `P run:R:reports`    a stream of Report entries, read by the submitter;
 * - `P run:R:cancel`     set when the run is cancelled (Ctrl-C) or over;
 * - `P run:R:aborts`     a set of dispatch tokens the submitter aborted
 *                        (fail-fast, a lost race): workers stop those.
 */
import type { Outcome } from "../run_task.ts";
import type { LogEvent } from "../telemetry/events.ts";

export const GROUP = "workers";

export function runKeys(prefix: string, run: string) {
  const base = `${prefix}run:${run}:`;
  return {
    spec: `${base}spec`,
    queue: `${base}queue`,
    reports: `${base}reports`,
    cancel: `${base}cancel`,
    aborts: `${base}aborts`,
  };
}
export type RunKeys = ReturnType<typeof runKeys>;

export const runsKey = (prefix: string) => `${prefix}runs`;
export const bundleKey = (prefix: string, hash: string) => `${prefix}bundle:${hash}`;

/** A published run: all a worker needs to run its instances exactly as the submitter would. */
export interface RunSpec {
  id: string;
  /** The submitter's runner name. */
  submitter: string;
  /** The plan as the submitter read it: its path there (ids and plugin paths are relative to it) and its text. */
  plan: { file: string; text: string };
  vars: Record<string, string>;
  /** Each plugin's path on the submitter → the content hash of its bundle (`P bundle:H`). */
  plugins: Record<string, string>;
  killGraceMs?: number;
  /** How long a claimed instance stays a worker's without a renewal. */
  leaseMs: number;
}

/** One attempt of one instance, ready to run: its needs have ended ok. */
export interface Dispatch {
  /** Unique per dispatch: reports and aborts name it. */
  token: string;
  id: string;
  task: string;
  host: string;
  item: unknown;
  attempt: number;
}

/** From a runner to the submitter: it started a dispatch, or ended it. */
export type Report =
  | { kind: "claim"; token: string; runner: string }
  | { kind: "end"; token: string; runner: string; outcome: Outcome; logs: Pick<LogEvent, "level" | "message">[] }
  /** The runner cannot load the run (its plan or a plugin bundle): it serves nothing of it. */
  | { kind: "refused"; runner: string; error: string };

/** How long the spec lives without a renewal by the submitter: then workers leave the run. */
export const specTtlMs = (leaseMs: number) => Math.max(3 * leaseMs, 30_000);
