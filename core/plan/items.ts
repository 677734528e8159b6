/**
 * A task's items: written out (`items:`), taken from a list var
 * (`items: "{{ vars.name }}"`), or read at load from a glob or a list file
 * (`items_from:`). No items from items_from is a warning, an error
 * with `required: true`; a bad pattern or a directory that cannot be read is
 * an error with the glob's position.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { PlanError } from "../errors.ts";
import type { TaskParts } from "./checks.ts";
import { GlobError, globFiles } from "./glob.ts";
import { ITEMS_FROM_VAR } from "./schema.ts";
import { followPath, missText } from "./template.ts";
import { formatPath, type PathKey, type YamlSource } from "./source.ts";

export interface ItemsFound {
  items: unknown[] | undefined;
  error?: PlanError;
  /** Not an error unless required or --strict: there is nothing to run. */
  warning?: PlanError;
}

export function resolveItems(t: TaskParts, taskAt: readonly PathKey[], dir: string, source: YamlSource): ItemsFound {
  // A string here is an `items: "{{ vars.x }}"` that did not resolve (reported by itemsFromVar).
  if (t.items !== undefined) return { items: Array.isArray(t.items) ? t.items : undefined };
  const from = t.items_from;
  if (!from) return { items: undefined };
  const at = (path: PathKey[], detail: string) => new PlanError(detail, source.positionOf(path), formatPath(path));
  const base: PathKey[] = [...taskAt, "items_from"];
  let items: string[];
  if ("glob" in from) {
    try {
      items = globFiles(from.glob, dir);
    } catch (e) {
      if (!(e instanceof GlobError)) throw e;
      return { items: undefined, error: at([...base, "glob"], `glob ${JSON.stringify(from.glob)}: ${e.message}`) };
    }
  } else {
    const listPath = resolve(dir, from.file);
    try {
      items = readFileSync(listPath, "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
    } catch (e) {
      return { items: undefined, error: at([...base, "file"], `cannot read items file ${listPath} (${(e as NodeJS.ErrnoException).code ?? e})`) };
    }
  }
  if (items.length > 0) return { items };
  const what = "glob" in from ? `glob ${JSON.stringify(from.glob)} matched no files` : `file ${from.file} lists no items`;
  if (from.required) return { items, error: at(base, `${what}, and required: true asks for at least one`) };
  return { items, warning: at(base, `${what}: task "${t.name}" has no instances`) };
}

/** What a template check may assume about `item` (see checks.ts TemplateContext). */
export function itemShape(raw: unknown, t: TaskParts): unknown[] | "strings" | "none" | "unknown" {
  const written = raw !== null && typeof raw === "object" ? raw as Record<string, unknown> : {};
  if (Object.hasOwn(written, "items")) return Array.isArray(t.items) ? t.items : "unknown";
  if (Object.hasOwn(written, "items_from")) return t.items_from ? "strings" : "unknown";
  return "none";
}

/**
 * `items: "{{ vars.name }}"` → that var's list. Not a list is an error at the
 * var (at `items:` for a value given by `--var`, which has no place in the
 * file); a var that does not exist is an error at `items:`. `vars` is
 * undefined when `vars:` is malformed: nothing to judge then.
 */
export function itemsFromVar(
  text: string,
  taskAt: readonly PathKey[],
  vars: Record<string, unknown> | undefined,
  fromCommandLine: ReadonlySet<string>,
  source: YamlSource,
): { items?: unknown[]; error?: PlanError } {
  if (!vars) return {};
  const path = ITEMS_FROM_VAR.exec(text)![1]!.slice(1).split(".");
  const itemsAt: PathKey[] = [...taskAt, "items"];
  const found = followPath(vars, path);
  if (!found.ok) {
    const where = ["vars", ...path.slice(0, found.depth)].join(".");
    return { error: new PlanError(`${text.trim()}: ${missText(where, path[found.depth]!, found.holder)}`, source.positionOf(itemsAt), formatPath(itemsAt)) };
  }
  if (Array.isArray(found.value)) return { items: found.value };
  const name = `vars.${path.join(".")}`;
  const got = found.value === null ? "null" : `a ${typeof found.value}`;
  if (fromCommandLine.has(path[0]!)) {
    return { error: new PlanError(`${name} is ${got} from --var ${path[0]}=…, and items need a list: set it under vars: in the plan`, source.positionOf(itemsAt), formatPath(itemsAt)) };
  }
  const varAt: PathKey[] = ["vars", ...path];
  return { error: new PlanError(`expected a list, got ${got}: ${formatPath(itemsAt)} takes its items from ${name}`, source.positionOf(varAt), formatPath(varAt)) };
}
