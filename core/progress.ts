/**
 * Which task×host groups may start: counts of unfinished instances and
 * unfinished prerequisites, and the skip cascade when a prerequisite fails.
 * Pure bookkeeping, no timers or events: the scheduler acts on what it
 * returns.
 */
import type { Graph, Group, Instance } from "./graph.ts";

export interface SkippedGroup {
  group: Group;
  /** The instance whose failure caused the skip (possibly several steps up). */
  blockedBy: string;
}

export interface Released {
  /** Groups whose prerequisites all succeeded: their instances may start. */
  ready: Group[];
  /** Groups that will never run because a prerequisite did not succeed. */
  skipped: SkippedGroup[];
}

export class GroupProgress {
  private readonly remaining: Int32Array;
  private readonly pendingPrereqs: Int32Array;
  /** The first failed instance among a group's prerequisites. */
  private readonly failedPrereq: (string | undefined)[];
  /** The first instance of the group itself that did not succeed. */
  private readonly failed: (string | undefined)[];

  constructor(private readonly graph: Graph) {
    const n = graph.groups.length;
    this.remaining = new Int32Array(n);
    this.pendingPrereqs = new Int32Array(n);
    this.failedPrereq = new Array(n);
    this.failed = new Array(n);
    for (const g of graph.groups) {
      this.remaining[g.index] = g.size;
      this.pendingPrereqs[g.index] = g.prereqs.length;
    }
  }

  /**
   * The groups with no prerequisites, and whatever their being empty
   * releases: a task with no instances on a host is a finished step, so its
   * dependants run.
   */
  start(): Released {
    const out: Released = { ready: [], skipped: [] };
    this.complete(this.release(this.graph.groups.filter((g) => g.prereqs.length === 0), out), out);
    return out;
  }

  /** Records that one instance ended for good; returns what that released. */
  ended(inst: Instance, succeeded: boolean): Released {
    const g = inst.group.index;
    if (!succeeded) this.failed[g] ??= inst.id;
    const out: Released = { ready: [], skipped: [] };
    if (--this.remaining[g] === 0) this.complete([inst.group], out);
    return out;
  }

  /** Releases what waited for `groups`, which have all ended, and so on down. */
  private complete(groups: Group[], out: Released): void {
    // A worklist, not recursion: a skip can cascade down a long chain of tasks.
    const work: Group[] = [...groups];
    while (work.length > 0) {
      const group = work.pop()!;
      const failedId = this.failed[group.index];
      const ready: Group[] = [];
      for (const d of group.dependents) {
        if (failedId !== undefined) this.failedPrereq[d.index] ??= failedId;
        if (--this.pendingPrereqs[d.index] === 0) ready.push(d);
      }
      work.push(...this.release(ready, out));
    }
  }

  /** Sorts released groups into ready and skipped; returns those that are complete already. */
  private release(groups: Group[], out: Released): Group[] {
    const complete: Group[] = [];
    for (const group of groups) {
      const blockedBy = this.failedPrereq[group.index];
      if (blockedBy !== undefined) {
        out.skipped.push({ group, blockedBy });
        this.failed[group.index] ??= blockedBy;
        this.remaining[group.index] = 0;
        complete.push(group);
      } else if (group.size === 0) {
        complete.push(group);
      } else {
        out.ready.push(group);
      }
    }
    return complete;
  }
}
