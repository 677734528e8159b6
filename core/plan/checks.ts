/**
 * Checks that a schema cannot express: names that must exist and be unique,
 * cycles in `needs`, template references. Each returns PlanErrors with
 * positions; the loader reports all of them at once. A task is given as the
 * fields that passed the schema (`Partial<TaskInput>`): a check skips what it
 * cannot see, so one malformed field hides no other problem.
 */
import { PlanError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import type { TaskInput } from "./schema.ts";
import { shellPlaceProblem, shellPlaces } from "./shell_quote.ts";
import { formatPath, type PathKey, type YamlSource } from "./source.ts";
import { eachString, followPath, missText, type Reference, scanReferences, TEMPLATE_ROOTS } from "./template.ts";

export type TaskParts = Partial<TaskInput>;

function errorAt(source: YamlSource, path: PathKey[], detail: string, key = false): PlanError {
  return new PlanError(detail, source.positionOf(path, { key }), formatPath(path));
}

/** `at[i]`: where task i is in the file (["tasks", 2], or ["tasks", 2, "parallel", 0] inside a group). */
export function checkTaskNames(tasks: readonly TaskParts[], at: readonly PathKey[][], source: YamlSource): PlanError[] {
  const seen = new Map<string, number>();
  const errors: PlanError[] = [];
  tasks.forEach((t, i) => {
    if (t.name === undefined) return;
    const first = seen.get(t.name);
    if (first !== undefined) errors.push(errorAt(source, [...at[i]!, "name"], `duplicate task name "${t.name}" (first used by ${formatPath(at[first]!)})`));
    else seen.set(t.name, i);
  });
  return errors;
}

/**
 * Hosts are unique where they are listed (a repeated host would run every
 * instance twice under one id), and a task's hosts are among the plan's.
 * `planHosts` is undefined when the plan's own list is malformed.
 */
export function checkHosts(
  tasks: readonly TaskParts[],
  at: readonly PathKey[][],
  planHosts: string[] | undefined,
  source: YamlSource,
  groups: ReadonlyMap<string, string[]> = new Map(),
): PlanError[] {
  const errors: PlanError[] = [];
  tasks.forEach((t, i) => {
    if (t.hosts === undefined) return;
    const one = typeof t.hosts === "string";
    const written = one ? [t.hosts as string] : t.hosts as string[];
    errors.push(...duplicates(written, [...at[i]!, "hosts"], source));
    if (!planHosts) return;
    const names = [...planHosts, ...groups.keys()];
    const known = new Set(names);
    const expected = groups.size > 0 ? `one of the plan's hosts or groups: ${names.join(", ")}` : `one of the plan's hosts: ${planHosts.join(", ")}`;
    written.forEach((h, j) => {
      if (!known.has(h)) errors.push(errorAt(source, one ? [...at[i]!, "hosts"] : [...at[i]!, "hosts", j], `unknown host "${h}"${didYouMean(h, names)}; expected ${expected}`));
    });
  });
  return errors;
}

function duplicates(hosts: string[], path: PathKey[], source: YamlSource): PlanError[] {
  const errors: PlanError[] = [];
  hosts.forEach((h, j) => {
    const first = hosts.indexOf(h);
    if (first < j) errors.push(errorAt(source, [...path, j], `duplicate host "${h}" (already ${formatPath([...path, first])}); list each host once`));
  });
  return errors;
}

export function checkItems(tasks: readonly TaskParts[], at: readonly PathKey[][], source: YamlSource): PlanError[] {
  return tasks.flatMap((t, i) =>
    t.items !== undefined && t.items_from !== undefined
      ? [errorAt(source, [...at[i]!, "items_from"], "give either items or items_from, not both", true)]
      : []
  );
}

/** `names`: every task name written in the plan, valid or not, so a typo in one name is not reported twice. */
export function checkNeeds(tasks: readonly TaskParts[], at: readonly PathKey[][], names: readonly string[], source: YamlSource): PlanError[] {
  const errors: PlanError[] = [];
  tasks.forEach((t, i) =>
    t.needs?.forEach((n, j) => {
      if (n === t.name) errors.push(errorAt(source, [...at[i]!, "needs", j], `task "${t.name}" cannot need itself`));
      else if (!names.includes(n)) {
        errors.push(errorAt(source, [...at[i]!, "needs", j], `unknown task "${n}"${didYouMean(n, names)}; expected one of: ${names.join(", ")}`));
      }
    })
  );
  return errors;
}

/**
 * Cycles among tasks, through explicit `needs` and the default "previous task
 * on the same host". Each cycle is reported once, with its members in order.
 */
export function checkCycles(edges: Map<string, string[]>, tasks: readonly TaskInput[], at: readonly PathKey[][], source: YamlSource): PlanError[] {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const errors: PlanError[] = [];
  const visit = (name: string) => {
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of edges.get(name) ?? []) {
      const s = state.get(dep);
      if (s === "visiting") {
        const members = stack.slice(stack.indexOf(dep));
        const i = tasks.findIndex((t) => t.name === members[0]);
        errors.push(errorAt(source, [...at[i]!, "needs"], `cycle in needs: ${[...members, members[0]].join(" -> ")}`));
      } else if (s === undefined) visit(dep);
    }
    stack.pop();
    state.set(name, "done");
  };
  for (const t of tasks) if (!state.has(t.name)) visit(t.name);
  return errors;
}

/** What a template check knows about a task beyond its fields. */
export interface TemplateContext {
  /** The plan's vars with --var applied; undefined when `vars:` is malformed. */
  vars: Record<string, unknown> | undefined;
  /** The names under `secrets:`; undefined when `secrets:` is malformed. */
  secrets?: readonly string[] | undefined;
  /**
   * The items a reference to `item` is checked against: a literal list,
   * "strings" for items_from, "none" without items, "unknown" when the
   * task's items are malformed.
   */
  items: unknown[] | "strings" | "none" | "unknown";
  /** The `with:` fields that are shell code (the module's `shellCode`). */
  shellCode: readonly string[];
  /** The vars of each host the task runs on, for `{{ host.vars.x }}`; undefined when the hosts are malformed. */
  hostVars?: readonly { name: string; vars: Readonly<Record<string, unknown>> }[] | undefined;
}

/**
 * Every `{{ … }}` in a task is closed, names a known root, and a path that
 * exists through own properties: in vars (known at load), in every literal
 * item, never in a string. In shell code it stands where a quoted word can.
 */
export function checkTemplates(task: TaskParts, at: readonly PathKey[], ctx: TemplateContext, source: YamlSource): PlanError[] {
  const errors: PlanError[] = [];
  const visit = (text: string, path: PathKey[]) => {
    const { refs, error } = scanReferences(text);
    if (error) return errors.push(errorAt(source, path, error));
    for (const ref of refs) {
      // A guard's name is shown in events and --dry-run: no secret goes into one.
      const inHint = path[at.length] === "hint";
      const problem = ref.root === "secrets" && inHint
        ? `${ref.text}: secrets cannot be used in a hint key (guard names are shown in events); use them in with:`
        : ref.root === "host" && ref.path.length > 0 && inHint
        ? `${ref.text}: a hint key may use {{ host }}, not host vars; use them in with:`
        : referenceProblem(ref, task, ctx);
      if (problem) errors.push(errorAt(source, path, problem));
    }
    if (path[at.length] === "with" && ctx.shellCode.includes(String(path[at.length + 1]))) {
      const quoted = refs.filter((r) => !r.raw);
      shellPlaces(text, quoted.map((r) => ({ start: r.start, length: r.text.length }))).forEach((place, k) => {
        const problem = shellPlaceProblem(place);
        if (problem) errors.push(errorAt(source, path, `${quoted[k]!.text} ${problem}`));
      });
    }
  };
  eachString(task.with ?? {}, [...at, "with"], visit);
  if (task.hint && typeof task.hint === "object" && "key" in task.hint && task.hint.key) {
    visit(task.hint.key, [...at, "hint", "key"]);
  }
  return errors;
}

function referenceProblem(ref: Reference, task: TaskParts, ctx: TemplateContext): string | undefined {
  switch (ref.root) {
    case "vars": {
      const name = ref.path[0];
      if (name === undefined) return `${ref.text}: name a variable, e.g. {{ vars.pkg }}`;
      if (!ctx.vars) return undefined;
      if (!Object.hasOwn(ctx.vars, name)) {
        const known = Object.keys(ctx.vars);
        return `${ref.text}: no variable "${name}"${didYouMean(name, known)}; defined: ${known.join(", ") || "none"}`;
      }
      return pathProblem(ref, ctx.vars[name], `vars.${name}`, 1);
    }
    case "item":
      if (ctx.items === "none") return `${ref.text}: task "${task.name}" has no items (add items: or items_from:)`;
      if (ctx.items === "unknown" || ref.path.length === 0) return undefined;
      if (ctx.items === "strings") return `${ref.text}: items from items_from are strings (file paths or lines), not mappings with "${ref.path[0]}"`;
      for (const [i, item] of ctx.items.entries()) {
        const problem = pathProblem(ref, item, `items[${i}]`, 0);
        if (problem) return problem;
      }
      return undefined;
    case "secrets": {
      const name = ref.path[0];
      if (name === undefined || ref.path.length > 1) return `${ref.text}: name one secret, e.g. {{ secrets.token }}`;
      if (!ctx.secrets) return undefined;
      if (!ctx.secrets.includes(name)) {
        return `${ref.text}: no secret "${name}"${didYouMean(name, ctx.secrets)}; declared under secrets: ${ctx.secrets.join(", ") || "none"}`;
      }
      return undefined;
    }
    case "host": {
      if (ref.path.length === 0) return undefined;
      // `{{ host }}` is the name, a string; only `vars` is beside it.
      if (ref.path[0] !== "vars") return `${ref.text}: host is a string, not a mapping with "${ref.path[0]}"`;
      if (ref.path.length === 1) return `${ref.text}: name a host var, e.g. {{ host.vars.port }}`;
      for (const { name, vars } of ctx.hostVars ?? []) {
        const problem = pathProblem(ref, vars, `host ${name}'s vars`, 1);
        if (problem) return problem;
      }
      return undefined;
    }
    case "task":
      return ref.path.length > 0 ? `${ref.text}: ${ref.root} is a string, not a mapping with "${ref.path[0]}"` : undefined;
    default:
      return `unknown template root "${ref.root}" in ${ref.text}${didYouMean(ref.root, TEMPLATE_ROOTS)}; expected host, item, vars, secrets or task`;
  }
}

/** Follows the reference's path from `from` (`value` is the value at `where`). */
function pathProblem(ref: Reference, value: unknown, where: string, from: number): string | undefined {
  const rest = ref.path.slice(from);
  const found = followPath(value, rest);
  if (found.ok) return undefined;
  const at = [where, ...rest.slice(0, found.depth)].join(".");
  const key = rest[found.depth]!;
  // Suggest field names, not list indexes ("5" is no typo of "0").
  const keys = found.holder !== null && typeof found.holder === "object" && !Array.isArray(found.holder) ? Object.keys(found.holder) : [];
  return `${ref.text}: ${missText(at, key, found.holder, didYouMean(key, keys))}`;
}
