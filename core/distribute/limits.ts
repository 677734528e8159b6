/** Defaults of a distributed run, in a file of their own so that a plain run can name them without loading Redis. */

/** A claimed instance stays its runner's this long without a renewal (--lease-ttl). */
export const DEFAULT_LEASE_MS = 30_000;

/** Attempts on the queue or running at once when -p is not given: the workers' own forks are the real limit. */
export const DEFAULT_IN_FLIGHT = 1024;
