/**
 * The plan as the scheduler sees it: instances (task × host × item) in plan
 * order, grouped per task and host. Dependencies are kept between groups, not
 * instances: a task with 100,000 items after another with 100,000 items is one
 * edge, not 10^10.
 */
import type { Plan, Task } from "./plan/plan.ts";

export interface Instance {
  /** Position in plan order; ties in the ready queue go to the lower one. */
  seq: number;
  /** "install[web1]" or "install[web1][a]". */
  id: string;
  task: Task;
  host: string;
  item: unknown;
  group: Group;
}

export interface Group {
  /** Position in Graph.groups. */
  index: number;
  task: Task;
  host: string;
  instances: Instance[];
  /** Groups that must finish first. */
  prereqs: Group[];
  /** Groups waiting for this one. */
  dependents: Group[];
}

export interface Graph {
  groups: Group[];
  instanceCount: number;
}

/**
 * "task[host]" or "task[host][item]". A file under `baseDir` (the plan's
 * directory; items_from globs give absolute paths) is named by its path
 * relative to it: `digest[localhost][data/a.csv]`.
 */
export function instanceId(task: string, host: string, item: unknown, hasItem: boolean, baseDir = ""): string {
  if (!hasItem) return `${task}[${host}]`;
  const label = itemLabel(item);
  const short = baseDir && label.startsWith(`${baseDir}/`) ? label.slice(baseDir.length + 1) : label;
  return `${task}[${host}][${short}]`;
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

export function buildGraph(plan: Plan): Graph {
  const groups: Group[] = [];
  const byTaskHost = new Map<string, Group>();
  const byTask = new Map<string, Group[]>();
  let seq = 0;
  for (const task of plan.tasks) {
    const taskGroups: Group[] = [];
    for (const host of task.hosts) {
      const group: Group = { index: groups.length, task, host, instances: [], prereqs: [], dependents: [] };
      const items = task.items ?? [null];
      const hasItem = task.items !== undefined;
      const seen = new Map<string, number>();
      for (const item of items) {
        let id = instanceId(task.name, host, item, hasItem, plan.dir);
        // Two equal items would share an id; number the repeats so ids stay unique.
        const n = seen.get(id) ?? 0;
        seen.set(id, n + 1);
        if (n > 0) id += `#${n + 1}`;
        group.instances.push({ seq: seq++, id, task, host, item, group });
      }
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
 * instance of x. No `needs`: the previous task that runs on this host.
 */
function prerequisitesOf(group: Group, plan: Plan, byTaskHost: Map<string, Group>, byTask: Map<string, Group[]>): Group[] {
  const { task, host } = group;
  if (task.needs) {
    return task.needs.flatMap((name) => {
      const same = byTaskHost.get(`${name}\u0000${host}`);
      return same ? [same] : byTask.get(name) ?? [];
    });
  }
  for (let i = task.index - 1; i >= 0; i--) {
    const prev = byTaskHost.get(`${plan.tasks[i]!.name}\u0000${host}`);
    if (prev) return [prev];
  }
  return [];
}
