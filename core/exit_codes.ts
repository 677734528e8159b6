/** fanout's exit codes: documented in the README, relied on by scripts. */
export const EXIT_OK = 0;
/** One or more instances did not succeed. */
export const EXIT_FAILED = 1;
/** The plan, a plugin or the command line is invalid: nothing ran. */
export const EXIT_INVALID = 2;
/** A bug in fanout itself (EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;
/** fanout could not write its output to stdout (a full disk, EIO; not a closed pipe): EX_IOERR. */
export const EXIT_IO = 74;
/** Interrupted by SIGINT, SIGTERM or SIGHUP. */
export const EXIT_INTERRUPTED = 130;
