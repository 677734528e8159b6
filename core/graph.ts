/**
 * The plan as the scheduler sees it: instances (task × host × item) in plan
 * order, grouped per task and host. Dependencies are kept between groups, not
 * instances: a task with 100,000 items after another with 100,000 items is one
 * edge, not 10^10.
 *
 * Instances are not built up front. A group knows how many it has and where
 * they start in plan order; an instance (and its id) is made when the
 * scheduler takes it, so 100,000 items cost the items themselves and a few
 * bytes of state each, not 100,000 objects and id strings held for the whole
 * run.
 */
import type { Plan, Task } from "./plan/plan.ts";

/** One instance, made on demand by its group: plan order, id, task, host, item. */
export class Instance {
  private label?: string;

  constructor(readonly group: Group, readonly index: number) {}

  /** Position in plan order; ties in the ready queue go to the lower one. */
  get seq(): number {
    return this.group.first + this.index;
  }

  /** "install[web1]" or "install[web1][a]". */
  get id(): string {
    return (this.label ??= this.group.idOf(this.index));
  }

  get task(): Task {
    return this.group.task;
  }

  get host(): string {
    return this.group.host;
  }

  get item(): unknown {
    return this.group.itemOf(this.index);
  }
}

export class Group {
  /** Groups that must finish first. */
  readonly prereqs: Group[] = [];
  /** Groups waiting for this one. */
  readonly dependents: Group[] = [];

  constructor(
    /** Position in Graph.groups. */
    readonly index: number,
    readonly task: Task,
    readonly host: string,
    /** The sequence number of its first instance; the others follow in item order. */
    readonly first: number,
    /** How many instances: one per item, or one. */
    readonly size: number,
    private readonly names: { idOf(task: string, host: string, i: number): string },
  ) {}

  itemOf(i: number): unknown {
    return this.task.items === undefined ? null : this.task.items[i];
  }

  idOf(i: number): string {
    return this.names.idOf(this.task.name, this.host, i);
  }

  /** A new object for instance `i` (0 ≤ i < size). */
  instance(i: number): Instance {
    return new Instance(this, i);
  }

  /** Every instance, made now: for `--dry-run` and tests, never in the scheduler's loop. */
  get instances(): Instance[] {
    return Array.from({ length: this.size }, (_, i) => new Instance(this, i));
  }
}

/**
 * One instance outside any graph, as a worker gets it from a published run
 * (core/distribute/): its task, host, item and id as the submitter made them.
 */
export function standaloneInstance(task: Task, host: string, item: unknown, id: string): Instance {
  const one: Task = { ...task, items: task.items === undefined ? undefined : [item], idItems: undefined, itemIndex: undefined };
  return new Group(0, one, host, 0, 1, { idOf: () => id }).instance(0);
}

export interface Graph {
  groups: Group[];
  instanceCount: number;
}

/**
 * An item's name in ids: its label, and for a file under `baseDir` (the
 * plan's directory; items_from globs give absolute paths) its path relative
 * to it: `digest[localhost][data/a.csv]`.
 */
function shortLabel(item: unknown, prefix: string): string {
  const label = itemLabel(item);
  return prefix !== "" && label.startsWith(prefix) ? label.slice(prefix.length) : label;
}

/** Items are labelled by their text; objects by their `name` or `id` field, else their index. */
function itemLabel(item: unknown): string {
  if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") return String(item);
  if (item && typeof item === "object") {
    const o = item as Record<string, unknown>;
    if (typeof o.name === "string" || typeof o.name === "number") return String(o.name);
    if (typeof o.id === "string" || typeof o.id === "number") return String(o.id);
  }
  return JSON.stringify(item);
}

/**
 * How a task's items are named in ids ("task[host]" or "task[host][item]"),
 * shared by its groups (every host has the same items). Two equal items
 * would share an id: repeats are numbered (`x`, `x#2`), and only those
 * numbers are kept, by item index.
 */
class ItemNames {
  private readonly repeats = new Map<number, number>();
  /** `baseDir/`: what a file's path loses in its id ("" for none). */
  private readonly prefix: string;

  constructor(private readonly items: readonly unknown[] | undefined, baseDir: string, private readonly itemIndex?: readonly number[]) {
    this.prefix = baseDir ? `${baseDir}/` : "";
    if (!items) return;
    const seen = new Map<string, number>();
    for (let i = 0; i < items.length; i++) {
      const label = shortLabel(items[i], this.prefix);
      const n = seen.get(label) ?? 0;
      seen.set(label, n + 1);
      if (n > 0) this.repeats.set(i, n + 1);
    }
  }

  idOf(task: string, host: string, at: number): string {
    if (!this.items) return `${task}[${host}]`;
    const i = this.itemIndex?.[at] ?? at;
    const repeat = this.repeats.get(i);
    const id = `${task}[${host}][${shortLabel(this.items[i], this.prefix)}]`;
    return repeat === undefined ? id : `${id}#${repeat}`;
  }
}

export function buildGraph(plan: Plan): Graph {
  const groups: Group[] = [];
  const byTaskHost = new Map<string, Group>();
  const byTask = new Map<string, Group[]>();
  let seq = 0;
  for (const task of plan.tasks) {
    const taskGroups: Group[] = [];
    const names = new ItemNames(task.idItems ?? task.items, plan.dir, task.itemIndex);
    const size = task.items?.length ?? 1;
    for (const host of task.hosts) {
      const group = new Group(groups.length, task, host, seq, size, names);
      seq += size;
      groups.push(group);
      taskGroups.push(group);
      byTaskHost.set(`${task.name}\u0000${host}`, group);
    }
    byTask.set(task.name, taskGroups);
  }
  for (const group of groups) {
    for (const dep of prerequisitesOf(group, plan, byTaskHost, byTask)) {
      group.prereqs.push(dep);
      dep.dependents.push(group);
    }
  }
  return { groups, instanceCount: seq };
}

/**
 * Explicit `needs: [x]`: x on the same host when x runs there, otherwise every
 * instance of x. No `needs`: the tasks of the previous step that run on this
 * host — one task, or those of a `parallel:` group (which share a step and
 * never wait for each other).
 */
function prerequisitesOf(group: Group, plan: Plan, byTaskHost: Map<string, Group>, byTask: Map<string, Group[]>): Group[] {
  const { task, host } = group;
  if (task.needs) {
    return task.needs.flatMap((name) => {
      const same = byTaskHost.get(`${name}\u0000${host}`);
      return same ? [same] : byTask.get(name) ?? [];
    });
  }
  const out: Group[] = [];
  let step: number | undefined;
  for (let i = task.index - 1; i >= 0; i--) {
    const t = plan.tasks[i]!;
    if (t.step === task.step) continue;
    if (step !== undefined && t.step !== step) break;
    const prev = byTaskHost.get(`${t.name}\u0000${host}`);
    if (prev) {
      out.push(prev);
      step = t.step;
    }
  }
  // Found walking back: give them in plan order.
  return out.reverse();
}
