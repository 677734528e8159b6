/**
 * `--junit FILE`: the run as a JUnit XML report, for CI systems. One
 * <testsuite> per task, one <testcase> per instance (classname = the task,
 * name = the instance id, time in seconds); `failed` is a <failure>,
 * `timed_out` an <error>, `skipped` and `cancelled` a <skipped>, each with
 * the instance's error. Folded from the events like every other output and
 * written whole (report_file.ts) once run_end is out — after Ctrl-C and on a
 * failed run too.
 */
import type { EventSink, FanoutEvent, Status, TaskEndEvent } from "./events.ts";
import { forReport, writeAtomically } from "./report_file.ts";
import { xmlAttr, xmlText } from "./xml.ts";

/** A captured stream can be megabytes; the report keeps its end, where the error usually is. */
const MAX_OUTPUT_CHARS = 64 * 1024;

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** What each status becomes; `ok` and `cached` (ok in an earlier run, --resume) pass: no child element. */
const OUTCOME: Record<Exclude<Status, "ok" | "cached">, "failure" | "error" | "skipped"> = {
  failed: "failure",
  timed_out: "error",
  unreachable: "error",
  skipped: "skipped",
  cancelled: "skipped",
};

export class JunitSink implements EventSink {
  private plan = "fanout";
  private timestamp = "";
  private makespanMs = 0;
  /** Task name → its instances' ends, in the order they ended; tasks in the order they first ended. */
  private readonly tasks = new Map<string, TaskEndEvent[]>();
  private ended = false;

  /** `onError` hears of a report that could not be written at the end (a full disk). */
  constructor(private readonly path: string, private readonly onError: (error: Error) => void) {}

  write(event: FanoutEvent): void {
    if (event.type === "run_start") {
      this.plan = event.plan;
      this.timestamp = event.ts;
    } else if (event.type === "task_end") {
      const list = this.tasks.get(event.task) ?? [];
      list.push(forReport(event));
      this.tasks.set(event.task, list);
    } else if (event.type === "run_end") {
      this.makespanMs = event.t_ms;
      this.ended = true;
    }
  }

  close(): void {
    if (!this.ended) return;
    try {
      writeAtomically(this.path, this.xml());
    } catch (e) {
      this.onError(e as Error);
    }
  }

  /** The report's text. */
  xml(): string {
    const suites = [...this.tasks].map(([task, ends]) => suite(task, ends, this.timestamp));
    const all = [...this.tasks.values()].flat();
    return [
      `<?xml version="1.0" encoding="UTF-8"?>`,
      `<testsuites name="${xmlAttr(this.plan)}" ${counts(all)} time="${seconds(this.makespanMs)}">`,
      ...suites,
      `</testsuites>`,
      "",
    ].join("\n");
  }
}

function counts(ends: TaskEndEvent[]): string {
  const n = (outcome: string) => ends.filter((e) => e.status !== "ok" && e.status !== "cached" && OUTCOME[e.status] === outcome).length;
  return `tests="${ends.length}" failures="${n("failure")}" errors="${n("error")}" skipped="${n("skipped")}"`;
}

function suite(task: string, ends: TaskEndEvent[], timestamp: string): string {
  const time = ends.reduce((sum, e) => sum + e.duration_ms, 0);
  const stamp = timestamp ? ` timestamp="${xmlAttr(timestamp)}"` : "";
  return [
    `  <testsuite name="${xmlAttr(task)}" ${counts(ends)} time="${seconds(time)}"${stamp}>`,
    ...ends.map(testcase),
    `  </testsuite>`,
  ].join("\n");
}

function testcase(e: TaskEndEvent): string {
  const open = `    <testcase classname="${xmlAttr(e.task)}" name="${xmlAttr(e.id)}" time="${seconds(e.duration_ms)}"`;
  if (e.status === "ok" || e.status === "cached") return `${open}/>`;
  const outcome = OUTCOME[e.status];
  const message = e.error ?? e.status;
  const children: string[] = [];
  if (outcome === "skipped") children.push(`<skipped message="${xmlAttr(message)}"/>`);
  else children.push(`<${outcome} type="${e.status}" message="${xmlAttr(message)}">${xmlText(message)}</${outcome}>`);
  for (const [name, stream] of [["system-out", "stdout"], ["system-err", "stderr"]] as const) {
    const text = e.data?.[stream];
    if (typeof text === "string" && text !== "") children.push(`<${name}>${xmlText(tail(text))}</${name}>`);
  }
  return `${open}>\n${children.map((c) => `      ${c}`).join("\n")}\n    </testcase>`;
}

function tail(text: string): string {
  return text.length <= MAX_OUTPUT_CHARS ? text : `[first ${text.length - MAX_OUTPUT_CHARS} characters left out]\n${text.slice(-MAX_OUTPUT_CHARS)}`;
}
