/**
 * A plan's `secrets:` → their values: `{ env: VARIABLE }` from fanout's
 * environment, `{ file: path }` from a file relative to the plan (trailing
 * line breaks removed, as `echo token > file` leaves one). A variable that
 * is not set or empty, a file that cannot be read or is empty: a PlanError
 * naming the secret, the variable or file, and where the plan declares it.
 * Values are never put in a message.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { PlanError } from "../errors.ts";
import { formatPath, type PathKey, type YamlSource } from "../plan/source.ts";
import { MIN_SECRET_LENGTH } from "./redactor.ts";

export type SecretSource = { env: string } | { file: string };

/** A secret's name is used as `{{ secrets.name }}`: a word a template path can hold. */
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export interface SecretsFound {
  /** Name → value, for the secrets that resolved. */
  values: Record<string, string>;
  errors: PlanError[];
  warnings: PlanError[];
}

export function resolveSecrets(
  sources: Readonly<Record<string, SecretSource>> | undefined,
  dir: string,
  source: YamlSource,
  env: Readonly<Record<string, string | undefined>> = process.env,
): SecretsFound {
  const found: SecretsFound = { values: {}, errors: [], warnings: [] };
  const at = (path: PathKey[], detail: string, key = false) => new PlanError(detail, source.positionOf(path, { key }), formatPath(path));
  for (const [name, from] of Object.entries(sources ?? {})) {
    if (!SECRET_NAME.test(name)) {
      found.errors.push(at(["secrets", name], `secret name "${name}" cannot be used as {{ secrets.${name} }}: expected letters, digits, "_" or "-", starting with a letter or "_"`, true));
      continue;
    }
    const read = "env" in from ? fromEnv(name, from.env, env) : fromFile(name, from.file, dir);
    const where = ["secrets", name, "env" in from ? "env" : "file"];
    if ("problem" in read) {
      found.errors.push(at(where, read.problem));
      continue;
    }
    found.values[name] = read.value;
    if (read.value.length < MIN_SECRET_LENGTH) {
      found.warnings.push(at(where, `secret "${name}" is only ${read.value.length} character${read.value.length === 1 ? "" : "s"} long: every occurrence of it in fanout's output is masked as ***, ordinary text included`));
    }
  }
  Object.freeze(found.values);
  return found;
}

function fromEnv(name: string, variable: string, env: Readonly<Record<string, string | undefined>>): { value: string } | { problem: string } {
  const value = env[variable];
  if (value === undefined) return { problem: `secret "${name}": environment variable ${variable} is not set` };
  if (value === "") return { problem: `secret "${name}": environment variable ${variable} is empty` };
  return { value };
}

function fromFile(name: string, path: string, dir: string): { value: string } | { problem: string } {
  const full = resolve(dir, path);
  let text: string;
  try {
    text = readFileSync(full, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "not found" : code === "EISDIR" ? "is a directory" : `cannot be read (${code ?? String(e)})`;
    return { problem: `secret "${name}": file ${path}${full === path ? "" : ` (${full})`} ${why}` };
  }
  const value = text.replace(/[\r\n]+$/, "");
  if (value === "") return { problem: `secret "${name}": file ${path} is empty` };
  return { value };
}
