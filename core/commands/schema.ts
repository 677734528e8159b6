/**
 * `fanout schema`: prints the plan's JSON Schema (draft-07), for editors. A
 * plan that starts with `# yaml-language-server: $schema=fanout.schema.json`
 * gets completion, descriptions and checks in editors using
 * yaml-language-server (VS Code's YAML extension, and others built on it).
 */
import { planJsonSchema } from "../plan/json_schema.ts";

/** The schema as pretty JSON, ending in a newline. */
export function schemaText(): string {
  return `${JSON.stringify(planJsonSchema(), null, 2)}\n`;
}
