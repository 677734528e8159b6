/**
 * Checks that a schema cannot express: names that must exist, cycles in
 * `needs`, template references. Each returns PlanErrors with positions; the
 * loader reports all of them at once.
 */
import { PlanError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import type { TaskInput } from "./schema.ts";
import { formatPath, type PathKey, type YamlSource } from "./source.ts";
import { eachString, scanReferences, TEMPLATE_ROOTS } from "./template.ts";

function errorAt(source: YamlSource, path: PathKey[], detail: string, key = false): PlanError {
  return new PlanError(detail, source.positionOf(path, { key }), formatPath(path));
}

export function checkTaskNames(tasks: TaskInput[], source: YamlSource): PlanError[] {
  const seen = new Map<string, number>();
  const errors: PlanError[] = [];
  tasks.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first !== undefined) errors.push(errorAt(source, ["tasks", i, "name"], `duplicate task name "${t.name}" (first used by tasks[${first}])`));
    else seen.set(t.name, i);
  });
  return errors;
}

export function checkHosts(tasks: TaskInput[], planHosts: string[], source: YamlSource): PlanError[] {
  const known = new Set(planHosts);
  const errors: PlanError[] = [];
  tasks.forEach((t, i) =>
    t.hosts?.forEach((h, j) => {
      if (!known.has(h)) {
        errors.push(errorAt(source, ["tasks", i, "hosts", j], `unknown host "${h}"${didYouMean(h, planHosts)}; expected one of the plan's hosts: ${planHosts.join(", ")}`));
      }
    })
  );
  return errors;
}

export function checkItems(tasks: TaskInput[], source: YamlSource): PlanError[] {
  return tasks.flatMap((t, i) =>
    t.items !== undefined && t.items_from !== undefined
      ? [errorAt(source, ["tasks", i, "items_from"], "give either items or items_from, not both", true)]
      : []
  );
}

export function checkNeeds(tasks: TaskInput[], source: YamlSource): PlanError[] {
  const names = [...new Set(tasks.map((t) => t.name))];
  const errors: PlanError[] = [];
  tasks.forEach((t, i) =>
    t.needs?.forEach((n, j) => {
      if (n === t.name) errors.push(errorAt(source, ["tasks", i, "needs", j], `task "${t.name}" cannot need itself`));
      else if (!names.includes(n)) {
        errors.push(errorAt(source, ["tasks", i, "needs", j], `unknown task "${n}"${didYouMean(n, names)}; expected one of: ${names.join(", ")}`));
      }
    })
  );
  return errors;
}

/**
 * Cycles among tasks, through explicit `needs` and the default "previous task
 * on the same host". Each cycle is reported once, with its members in order.
 */
export function checkCycles(edges: Map<string, string[]>, tasks: TaskInput[], source: YamlSource): PlanError[] {
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
        errors.push(errorAt(source, ["tasks", i, "needs"], `cycle in needs: ${[...members, members[0]].join(" -> ")}`));
      } else if (s === undefined) visit(dep);
    }
    stack.pop();
    state.set(name, "done");
  };
  for (const t of tasks) if (!state.has(t.name)) visit(t.name);
  return errors;
}

/**
 * Every `{{ … }}` in a task names a known root; `vars.x` names a defined
 * variable; `item` is only used where the task has items.
 */
export function checkTemplates(
  task: TaskInput,
  index: number,
  vars: Record<string, unknown>,
  source: YamlSource,
): PlanError[] {
  const errors: PlanError[] = [];
  const hasItems = task.items !== undefined || task.items_from !== undefined;
  const visit = (text: string, path: PathKey[]) => {
    const { refs, error } = scanReferences(text);
    if (error) return errors.push(errorAt(source, path, error));
    for (const ref of refs) {
      if (!(TEMPLATE_ROOTS as readonly string[]).includes(ref.root)) {
        errors.push(errorAt(source, path, `unknown template root "${ref.root}" in ${ref.text}${didYouMean(ref.root, TEMPLATE_ROOTS)}; expected host, item, vars or task`));
      } else if (ref.root === "vars") {
        const name = ref.path[0];
        if (name === undefined) errors.push(errorAt(source, path, `${ref.text}: name a variable, e.g. {{ vars.pkg }}`));
        else if (!(name in vars)) {
          const known = Object.keys(vars);
          errors.push(errorAt(source, path, `${ref.text}: no variable "${name}"${didYouMean(name, known)}; defined: ${known.join(", ") || "none"}`));
        }
      } else if (ref.root === "item" && !hasItems) {
        errors.push(errorAt(source, path, `${ref.text}: task "${task.name}" has no items (add items: or items_from:)`));
      }
    }
  };
  eachString(task.with, ["tasks", index, "with"], visit);
  if (task.hint && typeof task.hint === "object" && "key" in task.hint && task.hint.key) {
    visit(task.hint.key, ["tasks", index, "hint", "key"]);
  }
  return errors;
}
