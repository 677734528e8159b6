/**
 * One run's record in the journal. It is a sink beside NDJSON and the
 * summary: what it stores is what the events say (every attempt's status,
 * timings, `changed`, data and error), plus each instance's key, which it
 * works out when the scheduler asks, as the instance is about to start,
 * whether an earlier run already finished it (`cachedRun`).
 *
 * Writes are batched by time: rows wait in memory and go to the file in one
 * transaction every `flushEveryMs`, at the end of the run, and on Ctrl-C.
 * The time is looked at as each row is added, not only by a timer: a loop of
 * instances that end at once never lets a timer run.
 * A kill -9 loses at most the rows of the last moments — those instances
 * run again on resume (at-least-once), and SQLite keeps the file whole.
 */
import { resolve } from "node:path";
import process from "node:process";
import type { DatabaseSync } from "node:sqlite";
import type { Instance } from "../graph.ts";
import type { Plan, Task } from "../plan/plan.ts";
import { isConstant } from "../plan/template.ts";
import { type Clock, realClock } from "../runtime/clock.ts";
import type { EventSink, FanoutEvent, RunSummary } from "../telemetry/events.ts";
import { VERSION } from "../version.ts";
import { AttemptRows, ITEM_COLUMN, KEY_COLUMN, type Row } from "./attempt_rows.ts";
import { jsonOf, secretsDigest, TaskKeyText } from "./instance_key.ts";
import { moduleIdentity } from "./module_identity.ts";
import { inWriteTransaction, type OpenedJournal } from "./open_journal.ts";
import { loadFinished } from "./resume_lookup.ts";

export interface RunJournalOptions {
  plan: Plan;
  /** --resume: instances recorded ok in an earlier run of this plan are not run. */
  resume: boolean;
  /** Applied to every plain text stored (errors) before it is written: secret values never reach the file. */
  redact?: (text: string) => string;
  /** The same for JSON text (data, items), where a value's `"` and `\` stand escaped (default: `redact`). */
  redactJson?: (json: string) => string;
  clock?: Clock;
  /** How long rows may wait in memory before they are written (default 50 ms). */
  flushEveryMs?: number;
  /** A write that failed (another process holding the file past the busy timeout, a full disk): said, not thrown. */
  onError?: (message: string) => void;
}

/** Per task, what is the same for all of its instances. */
interface TaskKeyParts {
  text: TaskKeyText;
  /** A plugin's: the digest of every secret (it may read ctx.secrets); undefined for a built-in: those its input uses. */
  secrets: string | undefined;
  /** For a `with:` without templates: its JSON, the same for every instance (null: it cannot be rendered). */
  constantInput?: string | null;
}

/** An instance between its start and its task_end. */
interface Live {
  /** Its key, when it was made as the instance started (--resume looks it up then). */
  key?: string | null;
  /** jsonOf(item), not yet redacted: made once for the key and the rows. */
  item?: string;
  /** Without --resume: the instance, whose key and item are made as its rows are written. */
  inst?: Instance;
  /** When its current attempt started. */
  t?: number;
}

export class RunJournal implements EventSink {
  readonly runId: number;
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly rows: AttemptRows;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private readonly redact: (text: string) => string;
  private readonly redactJson: (json: string) => string;
  /** key → the latest earlier run where it ended ok; only with --resume. */
  private readonly finished: Map<string, number> | undefined;
  private readonly taskParts = new Map<Task, TaskKeyParts>();
  /** The plan's secret names, and what each renders as in a key's input (its value never does). */
  private readonly secretNames: string[];
  private readonly placeholders: Record<string, string>;
  /** Per instance id, from its start until its task_end. */
  private readonly live = new Map<string, Live>();
  private pending: Row[] = [];
  /** Rows of pending whose key and item are still to be made, with their instance. */
  private readonly unkeyed = new Map<Row, Instance>();
  private timer: unknown;
  private readonly flushEveryMs: number;
  private lastFlush: number;
  private summary?: RunSummary;
  private failedWrites = false;
  private closed = false;

  constructor(private readonly opened: OpenedJournal, private readonly o: RunJournalOptions) {
    this.db = opened.db;
    this.path = opened.path;
    this.clock = o.clock ?? realClock;
    this.startedAt = this.clock.now();
    this.redact = o.redact ?? ((text) => text);
    this.redactJson = o.redactJson ?? this.redact;
    this.secretNames = Object.keys(o.plan.secrets ?? {});
    this.placeholders = Object.fromEntries(this.secretNames.map((name) => [name, `⟦secret:${name}⟧`]));
    this.rows = new AttemptRows(this.db);
    this.flushEveryMs = o.flushEveryMs ?? 50;
    this.lastFlush = this.startedAt;
    const plan = o.plan;
    this.runId = inWriteTransaction(this.db, () => {
      const r = this.db.prepare(`INSERT INTO runs (plan, plan_file, started, fanout_version, pid, resume, instances)
        VALUES (?, ?, ?, ?, ?, ?, 0)`).run(plan.name, resolve(plan.file), this.clock.wallTime().toISOString(), VERSION, process.pid, o.resume ? 1 : 0);
      return Number(r.lastInsertRowid);
    });
    this.finished = o.resume ? loadFinished(this.db, plan.name, this.runId) : undefined;
  }

  /**
   * The scheduler's question as `inst` is about to start its first attempt:
   * the id of an earlier run where this very instance (same key) ended ok,
   * or undefined to run it. Also remembers the key, for the rows written
   * when it ends.
   */
  cachedRun(inst: Instance): number | undefined {
    // Without --resume nothing is looked up: the key is made with the rows,
    // a batch at a time, not on the way to the instance's start (one hash
    // and two JSON texts, each its own cold path when made one at a time).
    if (this.finished === undefined) {
      this.live.set(inst.id, { inst });
      return undefined;
    }
    const item = jsonOf(inst.item);
    const key = this.keyOf(inst, item);
    this.live.set(inst.id, { key, item });
    return key === null ? undefined : this.finished.get(key);
  }

  /** The instance's key; null when its input cannot be rendered (it will fail when it runs, and is never cached). */
  keyOf(inst: Instance, item = jsonOf(inst.item)): string | null {
    const parts = this.partsOf(inst.task);
    const input = parts.constantInput !== undefined ? parts.constantInput : this.inputOf(inst);
    if (input === null) return null;
    return parts.text.key(inst.host, item, input, parts.secrets ?? this.secretsIn(input));
  }

  /** jsonOf() of the input the module would be given, secrets as placeholders; null when it cannot be rendered. */
  private inputOf(inst: Instance): string | null {
    const { task } = inst;
    try {
      return jsonOf(task.input({ host: inst.host, item: inst.item, vars: this.o.plan.vars, task: task.name, secrets: this.placeholders }));
    } catch {
      return null;
    }
  }

  /**
   * The salted digest of the secrets an input was rendered with, found by
   * their placeholders in its JSON: a secret enters the key only that way,
   * never in clear.
   */
  private secretsIn(input: string): string {
    if (this.secretNames.length === 0) return "";
    const used = this.secretNames.filter((name) => input.includes(this.placeholders[name]!));
    return secretsDigest(this.opened.salt, used.map((name) => this.o.plan.secrets[name]!));
  }

  private partsOf(task: Task): TaskKeyParts {
    let parts = this.taskParts.get(task);
    if (!parts) {
      const builtin = task.module.source.startsWith("builtin:");
      parts = {
        text: new TaskKeyText({
          plan: this.o.plan.name,
          task: task.name,
          module: moduleIdentity(task.module),
          // Built-ins read vars and secrets only through templates (already in the input); a plugin may read ctx.vars and ctx.secrets.
          vars: builtin ? undefined : this.o.plan.vars,
        }),
        secrets: builtin ? undefined : secretsDigest(this.opened.salt, this.secretNames.map((name) => this.o.plan.secrets[name]!)),
        constantInput: isConstant(task.input) ? this.constantInputOf(task) : undefined,
      };
      this.taskParts.set(task, parts);
    }
    return parts;
  }

  /** A `with:` without templates renders the same for any host and item. */
  private constantInputOf(task: Task): string | null {
    try {
      return jsonOf(task.input({ host: "", item: null, vars: this.o.plan.vars, task: task.name, secrets: this.placeholders }));
    } catch {
      return null;
    }
  }

  write(event: FanoutEvent): void {
    switch (event.type) {
      case "task_start": {
        const live = this.live.get(event.id);
        if (live) live.t = event.t_ms;
        else this.live.set(event.id, { key: null, t: event.t_ms });
        return;
      }
      case "task_retry": {
        const live = this.live.get(event.id);
        const t = live?.t ?? event.t_ms;
        this.push([this.runId, event.id, event.task, event.host, this.itemOf(live, event.item), event.attempt, 0, live?.key ?? null,
          event.status, t, event.t_ms - t, 0, null, this.text(event.error), null, event.runner ?? null], live?.inst);
        return;
      }
      case "task_end": {
        const live = this.live.get(event.id);
        this.live.delete(event.id);
        const t = live?.t ?? event.t_ms;
        const data = Object.keys(event.data).length > 0 ? this.json(event.data) : null;
        this.push([this.runId, event.id, event.task, event.host, this.itemOf(live, event.item), event.attempt, 1, live?.key ?? null,
          event.status, t, event.duration_ms, event.changed ? 1 : 0, data, this.text(event.error), event.cached_from ?? null, event.runner ?? null],
          live?.inst);
        return;
      }
      case "run_end":
        this.summary = event.summary;
        return;
    }
  }

  private json(value: unknown): string {
    return this.redactJson(jsonOf(value));
  }

  /**
   * The item's JSON, redacted: made when the instance started, or now for one
   * that never did (skipped, cancelled); "" for one whose row is keyed later.
   */
  private itemOf(live: Live | undefined, item: unknown): string {
    if (live?.inst) return "";
    return this.redactJson(live?.item ?? jsonOf(item));
  }

  private text(value: string | null): string | null {
    return value === null ? null : this.redact(value);
  }

  /** `inst`: the row's key and item are made when it is written. */
  private push(row: Row, inst?: Instance): void {
    this.pending.push(row);
    if (inst) this.unkeyed.set(row, inst);
    if (this.closed) return;
    // Instances that end at once (a module that returns without waiting) keep the loop in promise callbacks, where no timer runs.
    if (this.clock.now() - this.lastFlush >= this.flushEveryMs) return this.flush();
    this.timer ??= this.clock.setTimer(() => {
      this.timer = undefined;
      this.flush();
    }, this.flushEveryMs);
  }

  /** Writes every waiting row in one transaction. Never throws: a failed write keeps the rows for the next try. */
  flush(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    // Also after a failed write: the next try comes flushEveryMs later, not at the next row.
    this.lastFlush = this.clock.now();
    const rows = this.pending;
    this.pending = [];
    try {
      for (const [row, inst] of this.unkeyed) {
        const item = jsonOf(inst.item);
        row[ITEM_COLUMN] = this.redactJson(item);
        row[KEY_COLUMN] = this.keyOf(inst, item);
        this.unkeyed.delete(row);
      }
      this.rows.insert(rows);
    } catch (error) {
      this.pending = rows.concat(this.pending);
      if (!this.failedWrites) this.o.onError?.(`journal ${this.path}: cannot write (${(error as Error).message}); will try again`);
      this.failedWrites = true;
    }
  }

  /** Sink close, after run_end: the last rows are written. */
  close(): void {
    this.flush();
  }

  /** The run's end: its counts and exit code are recorded, and the file is closed. */
  end(exitCode: number): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    const s = this.summary;
    try {
      inWriteTransaction(this.db, () => {
        this.db.prepare(`UPDATE runs SET ended = ?, duration_ms = ?, makespan_ms = ?, instances = ?, ok = ?, failed = ?, timed_out = ?,
          skipped = ?, cancelled = ?, cached = ?, exit_code = ? WHERE id = ?`).run(
          this.clock.wallTime().toISOString(), Math.round((this.clock.now() - this.startedAt) * 10) / 10, s?.makespan_ms ?? null,
          s?.total ?? 0, s?.ok ?? null, s?.failed ?? null, s?.timed_out ?? null, s?.skipped ?? null, s?.cancelled ?? null, s?.cached ?? null,
          exitCode, this.runId);
      });
    } catch (error) {
      this.o.onError?.(`journal ${this.path}: cannot record the end of run ${this.runId} (${(error as Error).message})`);
    }
    if (this.pending.length > 0) this.o.onError?.(`journal ${this.path}: ${this.pending.length} attempt(s) of run ${this.runId} could not be recorded`);
    this.db.close();
  }
}
