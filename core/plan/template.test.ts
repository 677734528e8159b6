import { describe, expect, test } from "bun:test";
import { compile, renderString, scanReferences, TemplateError } from "./template.ts";

const scope = { host: "web1", item: { name: "a", size: 3 }, vars: { pkg: "nginx", list: [1, 2], nested: { port: 80 } }, task: "install" };

describe("templates", () => {
  test("substitutes host, item fields, vars and task inside text", () => {
    expect(renderString("{{ task }} {{vars.pkg}} on {{ host }}:{{ vars.nested.port }} ({{ item.name }})", scope)).toBe("install nginx on web1:80 (a)");
  });

  test("a string that is exactly one reference keeps the value's type", () => {
    expect(compile("{{ vars.list }}")(scope)).toEqual([1, 2]);
    expect(compile(" {{ item.size }} ")(scope)).toBe(3);
    expect(compile("n={{ vars.list }}")(scope)).toBe("n=[1,2]");
  });

  test("nested values are rendered; constant values are returned as they are", () => {
    const value = { a: ["{{ host }}", 1], b: { c: "x" } };
    expect(compile(value)(scope)).toEqual({ a: ["web1", 1], b: { c: "x" } });
    const constant = { b: { c: "x" } };
    expect(compile(constant)(scope)).toBe(constant);
  });

  test("never evaluates code: anything but a dotted path is reported", () => {
    expect(scanReferences("{{ vars.pkg.toUpperCase() }}").error).toContain("is not a plain reference");
    expect(scanReferences("{{ process.exit(1) }}").error).toContain("is not a plain reference");
    expect(scanReferences("{{ constructor }}").refs[0]!.root).toBe("constructor");
  });

  test("a missing item field throws a TemplateError naming it", () => {
    expect(() => renderString("{{ item.missing }}", scope)).toThrow(TemplateError);
    expect(() => renderString("{{ item.missing }}", scope)).toThrow('no "missing" in item');
  });
});
