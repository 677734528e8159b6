/**
 * The jobserver's words in MAKEFLAGS, read and written as GNU make does.
 *
 * Reading (fanout started under a jobserver): the words are split on blanks;
 * of `--jobserver-auth=` and the older `--jobserver-fds=`, the last one wins
 * (GNU make stores both in one option; ninja and the jobserver crate read
 * them the same way). `fifo:PATH` names a fifo; `R,W` two inherited file
 * descriptors; a negative descriptor means make withheld its jobserver (a
 * recipe line not marked `+`). `-jN` is the parent's limit, when it says.
 *
 * Writing (fanout serving its commands): the inherited jobserver words are
 * dropped and fanout's are appended, so one MAKEFLAGS never names two
 * jobservers; every other flag the user or a parent make set is kept.
 */

export type JobserverAuth =
  | { style: "fifo"; path: string }
  | { style: "pipe"; read: number; write: number };

export interface ParentJobserver {
  /** undefined: MAKEFLAGS names no jobserver (or withholds it, `-2,-2`). */
  auth?: JobserverAuth;
  /** `-jN` when given with a number: the parent's whole limit. */
  jobs?: number;
  /** Set when an auth word was there but unusable as written. */
  invalid?: string;
}

const AUTH = /^--jobserver-(?:auth|fds)=(.*)$/;
const JOBS = /^-j(\d*)$/;
const FDS = /^(-?\d+),(-?\d+)$/;

/** What MAKEFLAGS says of a parent jobserver. */
export function parseMakeflags(makeflags: string | undefined): ParentJobserver {
  const out: ParentJobserver = {};
  if (!makeflags) return out;
  let auth: string | undefined;
  for (const word of words(splitAssignments(makeflags)[0])) {
    const a = AUTH.exec(word);
    if (a) auth = a[1];
    const j = JOBS.exec(word);
    if (j && j[1] !== "") out.jobs = Number(j[1]);
  }
  if (auth === undefined) return out;
  if (auth.startsWith("fifo:")) {
    const path = auth.slice(5);
    if (path === "") out.invalid = `--jobserver-auth=${auth}: no fifo path`;
    else out.auth = { style: "fifo", path };
    return out;
  }
  const fds = FDS.exec(auth);
  if (!fds) out.invalid = `--jobserver-auth=${auth}: neither fifo:PATH nor R,W`;
  else if (Number(fds[1]) >= 0 && Number(fds[2]) >= 0) out.auth = { style: "pipe", read: Number(fds[1]), write: Number(fds[2]) };
  return out;
}

/**
 * MAKEFLAGS for a command: `inherited` without its `-j` and jobserver words,
 * then, when `auth` is given, `-jN --jobserver-auth=…` naming fanout's.
 * GNU make puts single-letter flags first, without a dash ("ks -j3 …"): that
 * word is kept where it is.
 */
export function childMakeflags(inherited: string | undefined, auth: JobserverAuth | undefined, jobs: number): string {
  const [flags, assignments] = splitAssignments(inherited ?? "");
  const kept = words(flags).filter((w) => !AUTH.test(w) && !JOBS.test(w));
  if (auth) kept.push(`-j${jobs}`, `--jobserver-auth=${authText(auth)}`);
  if (assignments) kept.push(assignments);
  return kept.join(" ");
}

export function authText(auth: JobserverAuth): string {
  return auth.style === "fifo" ? `fifo:${auth.path}` : `${auth.read},${auth.write}`;
}

/** True when MAKEFLAGS holds a word this module rewrites. */
export function hasJobserverWords(makeflags: string | undefined): boolean {
  return makeflags !== undefined && words(splitAssignments(makeflags)[0]).some((w) => AUTH.test(w) || JOBS.test(w));
}

function words(text: string): string[] {
  return text.split(/[ \t]+/).filter((w) => w !== "");
}

/** The flags, and from " -- " on the variable assignments, which are kept whole (their values may hold blanks). */
function splitAssignments(text: string): [flags: string, assignments: string] {
  const at = /(^|[ \t])--([ \t]|$)/.exec(text)?.index ?? -1;
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at).trim()];
}
