/**
 * `--partition K/N`: this machine's share of a plan, so that N machines
 * running the same plan with K = 1..N run every instance exactly once (the
 * way cargo-nextest shares tests among CI jobs).
 *
 * The unit shared out is a host when the plan has more than one (a host's
 * chain of tasks stays on one machine), else an instance (task × item). Two
 * ways of sharing, both deterministic:
 * - `slice:K/N` (the default): unit i of the plan's order goes to partition
 *   (i mod N) + 1 — round robin, so shares differ in size by at most one;
 * - `hash:K/N`: FNV-1a of the unit's name (host, or instance id) mod N — a
 *   unit keeps its partition when others are added or removed.
 *
 * A dependency between two groups whose instances fall in different
 * partitions cannot hold (no machine sees both): it is an error naming it,
 * whatever K is, so every machine of the matrix says the same thing.
 * Like select.ts, the result is a plan of its own; ids stay those of the
 * whole plan (graph.ts numbers repeated items over the task's full list).
 */
import { UsageError } from "../errors.ts";
import { buildGraph, type Group } from "../graph.ts";
import type { PartitionInfo } from "../telemetry/events.ts";
import type { Plan, Task } from "./plan.ts";

export type { PartitionInfo };

export interface Partition {
  mode: "slice" | "hash";
  /** 1-based. */
  k: number;
  n: number;
}

const FORM = /^(?:(slice|hash):)?(\d+)\/(\d+)$/;

/** `2/5`, `slice:2/5`, `hash:2/5`; UsageError otherwise. */
export function parsePartition(text: string): Partition {
  const m = FORM.exec(text.trim());
  const k = Number(m?.[2]);
  const n = Number(m?.[3]);
  if (!m || !(n >= 1) || !(k >= 1) || k > n) {
    throw new UsageError(`--partition: expected K/N, slice:K/N or hash:K/N with 1 <= K <= N, got ${JSON.stringify(text)}`);
  }
  return { mode: (m[1] ?? "slice") as Partition["mode"], k, n };
}

/** FNV-1a, 32 bits, over UTF-16 code units: stable across runtimes and machines. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The partition (0-based) of each instance, by sequence number. */
function partitionsOf(plan: Plan, groups: Group[], count: number, p: Partition): { by: "host" | "item"; of: Int32Array } {
  const of = new Int32Array(count);
  const by = plan.hosts.length > 1 ? "host" : "item";
  const place = (index: number, name: string) => (p.mode === "slice" ? index : fnv1a(name)) % p.n;
  if (by === "host") {
    const hostPart = new Map(plan.hosts.map((h, i) => [h, place(i, h)]));
    for (const g of groups) of.fill(hostPart.get(g.host)!, g.first, g.first + g.size);
  } else {
    for (const g of groups) for (let i = 0; i < g.size; i++) of[g.first + i] = place(g.first + i, g.idOf(i));
  }
  return { by, of };
}

/** The one partition all of a group's instances are in, or -1 when they are split. */
function single(g: Group, of: Int32Array): number {
  const first = of[g.first]!;
  for (let i = 1; i < g.size; i++) if (of[g.first + i] !== first) return -1;
  return first;
}

/** The plan cut down to partition K of N. Throws UsageError when a dependency would cross partitions. */
export function partitionWork(plan: Plan, p: Partition): Plan {
  const graph = buildGraph(plan);
  const { by, of } = partitionsOf(plan, graph.groups, graph.instanceCount, p);
  if (p.n > 1) {
    for (const g of graph.groups) {
      for (const pre of g.prereqs) {
        const a = single(g, of);
        if (a >= 0 && a === single(pre, of)) continue;
        throw new UsageError(`--partition ${p.mode}:${p.k}/${p.n}: "${g.task.name}" on ${g.host} needs "${pre.task.name}" on ${pre.host}, ` +
          `and partitioning by ${by} puts their instances in different partitions: no machine would see both; ` +
          (by === "item" ? "a plan with one host can be partitioned only where no task waits for another (needs: [])" : "drop the need, or run the plan whole"));
      }
    }
  }
  const mine = p.k - 1;
  const tasks: Task[] = [];
  const kept = new Map<Task, Group[]>();
  for (const g of graph.groups) {
    if (!kept.has(g.task)) kept.set(g.task, []);
    kept.get(g.task)!.push(g);
  }
  let instances = 0;
  for (const task of plan.tasks) {
    const groups = kept.get(task) ?? [];
    const hosts = groups.filter((g) => of.subarray(g.first, g.first + g.size).includes(mine)).map((g) => g.host);
    if (hosts.length === 0) continue;
    const index = tasks.length;
    let cut: Partial<Task> = {};
    if (by === "item" && task.items !== undefined) {
      const g = groups[0]!;
      const itemIndex = [...task.items.keys()].filter((i) => of[g.first + i] === mine);
      cut = { items: itemIndex.map((i) => task.items![i]), idItems: task.idItems ?? task.items, itemIndex: itemIndex.map((i) => task.itemIndex?.[i] ?? i) };
    }
    const t: Task = { ...task, ...cut, index, hosts };
    t.race = task.race?.map((alt) => ({ ...alt, ...cut, index, hosts }));
    tasks.push(t);
    instances += hosts.length * (t.items?.length ?? 1);
  }
  const planned = plan.hosts.filter((h) => tasks.some((t) => t.hosts.includes(h)));
  return { ...plan, hosts: planned, tasks, partition: { mode: p.mode, k: p.k, n: p.n, by, instances, of_instances: graph.instanceCount } };
}
