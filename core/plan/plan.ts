/** A loaded, validated plan: what the scheduler and `--dry-run` work from. */
import type { Hint, Resources } from "../hints.ts";
import type { Host } from "../hosts/host.ts";
import type { LoadedModule } from "../module.ts";
import type { PartitionInfo, SelectionInfo } from "../telemetry/events.ts";
import type { PathKey } from "./source.ts";
import type { Rendered } from "./template.ts";

export interface Task {
  index: number;
  name: string;
  module: LoadedModule;
  hosts: string[];
  /** Renders `with:` for one instance. */
  input: Rendered;
  /** The module's hint, or the task's `hint:` when given. */
  hint: Hint;
  /** The module's resources, overridden key by key by the task's. */
  resources: Resources;
  /** What the plan set itself rather than take from the module: `hint:`, and which `resources:` keys (for `fanout explain`). */
  overrides?: { hint: boolean; resources: string[] };
  timeoutMs: number | undefined;
  retries: number;
  retryDelayMs: number;
  /** `kill_grace:`: SIGTERM to SIGKILL for the task's process groups; undefined = the run's default. */
  killGraceMs: number | undefined;
  /** `jobserver:`: the form its commands are given the make jobserver in (core/jobserver.ts); false: none; undefined: the default, pipe. */
  jobserver?: "pipe" | "fifo" | false;
  /** Tasks this one waits for; undefined = the previous task on the same host. */
  needs: string[] | undefined;
  /** undefined: one instance per host; otherwise one per host and item. */
  items: unknown[] | undefined;
  /** Set when --partition kept some of the items: the task's whole list, and where each kept item stands in it (ids are the whole plan's). */
  idItems?: unknown[];
  itemIndex?: number[];
  /** Where the task's files live (an items_from glob's base): its I/O pool is that device's. */
  dataDir: string | undefined;
  /**
   * Its step in the task list: tasks of one `parallel:` group share it, and
   * without `needs:` a task waits for the tasks of the previous step on its host.
   */
  step: number;
  /** Where it is written in the plan (`["tasks", 2]`, `["tasks", 0, "parallel", 1]`): problems found after loading point there. */
  at: PathKey[];
  /** The `parallel:` groups it is in that set a `limit:`, outermost first. */
  groupLimits: { name: string; limit: number }[];
  /**
   * `race:`: the alternatives, each a task of its own module, input, hint and
   * resources (everything else as this task's). The race's own `module` is
   * the first alternative's; its own hint and resources apply to the whole race.
   */
  race?: Task[];
  /** Once more than this share (0–100) of its instances has failed, its instances not yet started are skipped. */
  maxFailPercentage?: number;
}

export interface PlanResources {
  cpu_tokens?: number;
  io_tokens?: number;
  storage_type?: "auto" | "nvme" | "ssd" | "hdd";
  mem_free?: number;
  mem_budget?: number;
}

export interface Plan {
  file: string;
  dir: string;
  /** The plan's text as read, for positions in problems found after loading (`positionsOf` in load.ts). */
  text: string;
  name: string;
  hosts: string[];
  /** Each host by name: how it is reached and its vars. Absent: every host is a local label. */
  hostInfo?: Readonly<Record<string, Host>>;
  parallelism: "auto" | number;
  vars: Record<string, unknown>;
  /** `secrets:` name → value (frozen): `{{ secrets.name }}` and ctx.secrets, never vars; masked in output (core/secrets/). */
  secrets: Readonly<Record<string, string>>;
  resources: PlanResources;
  /** `coordinator:`: the Redis URL the run shares its locks and buckets through (core/guards/remote/). */
  coordinator?: string;
  tasks: Task[];
  /** Things worth saying that are not errors ("the glob matched no files"), with their position. */
  warnings: string[];
  /** The `parallel:` groups, by name, with the tasks in them (nested groups' too). */
  groups?: { name: string; members: string[] }[];
  /** Set when --limit, --only or --start-at cut the plan down (core/plan/select.ts). */
  selection?: SelectionInfo;
  /** Set when --partition K/N kept this machine's share (core/plan/partition.ts). */
  partition?: PartitionInfo;
}
