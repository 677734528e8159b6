/**
 * A task's items: written out (`items:`), or read at load from a glob or a
 * list file (`items_from:`). No items from items_from is a warning, an error
 * with `required: true`; a bad pattern or a directory that cannot be read is
 * an error with the glob's position.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { PlanError } from "../errors.ts";
import type { TaskParts } from "./checks.ts";
import { GlobError, globFiles } from "./glob.ts";
import { formatPath, type PathKey, type YamlSource } from "./source.ts";

export interface ItemsFound {
  items: unknown[] | undefined;
  error?: PlanError;
  /** Not an error unless required or --strict: there is nothing to run. */
  warning?: PlanError;
}

export function resolveItems(t: TaskParts, taskAt: readonly PathKey[], dir: string, source: YamlSource): ItemsFound {
  if (t.items) return { items: t.items };
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
  if (Object.hasOwn(written, "items")) return t.items ?? "unknown";
  if (Object.hasOwn(written, "items_from")) return t.items_from ? "strings" : "unknown";
  return "none";
}
