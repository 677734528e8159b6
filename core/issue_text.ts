import * as v from "./deps_valibot.ts";

/**
 * One valibot issue as a line of text: `path: what was expected`. valibot's
 * own "Invalid type: Expected …" is rephrased; messages our schemas wrote
 * are kept as they are.
 */
export function issueText(issue: v.BaseIssue<unknown>): string {
  const path = v.getDotPath(issue);
  const what = issue.message.startsWith("Invalid ") ? `expected ${issue.expected}, got ${issue.received}` : issue.message;
  return path ? `${path}: ${what}` : what;
}
