/**
 * Puts a plan's Redactor on fanout's stdout and stderr: the points where
 * text leaves the process. Events (NDJSON), human progress, warnings, error
 * messages, `--dry-run` lines, and what a plugin writes to process.stdout or
 * process.stderr itself all pass through them, so none of those producers
 * has to mask anything. The --junit and --summary reports are masked the
 * same way, as values. stdout under `--json` is masked as JSON (inside
 * string literals, so every line still parses); everything else as text.
 */
import { redactStderr } from "../runtime/stderr.ts";
import { redactStdout } from "../runtime/stdout.ts";
import { redactReports } from "../telemetry/report_file.ts";
import type { Redactor } from "./redactor.ts";

export function maskOutputs(redactor: Redactor, { json }: { json: boolean }): void {
  if (!redactor.active) return;
  redactStdout(json ? (text) => redactor.jsonLines(text) : (text) => redactor.text(text));
  redactStderr((text) => redactor.text(text));
  // The --junit and --summary files: values, masked before they are written as XML or JSON.
  redactReports((value) => redactor.value(value));
}
