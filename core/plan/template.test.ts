import { describe, expect, test } from "bun:test";
import { compile, compileFields, renderString, scanReferences, TemplateError } from "./template.ts";

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

  test("an unclosed {{ is reported; a lone }} is text", () => {
    expect(scanReferences("{{ item").error).toStartWith(`unclosed "{{" in "{{ item"`);
    expect(scanReferences("{{ host }} {{ item").error).toStartWith("unclosed");
    expect(scanReferences("a }} b").error).toBeUndefined();
  });

  test("| raw is the only filter; it is recorded on the reference", () => {
    expect(scanReferences("{{ vars.pkg | raw }} {{ host }}").refs.map((r) => [r.root, r.raw, r.start])).toEqual([["vars", true, 0], ["host", false, 21]]);
  });

  test("lookups use own properties only, never a prototype's", () => {
    const tricky = { ...scope, item: { name: "a" }, vars: { s: "text", o: {} } };
    for (const text of ["{{ vars.constructor }}", "{{ item.__proto__ }}", "{{ vars.s.toString }}", "{{ vars.o.hasOwnProperty }}", "{{ host.length }}"]) {
      expect(() => renderString(text, tricky)).toThrow(TemplateError);
    }
    expect(() => renderString("{{ vars.s.length }}", tricky)).toThrow('vars.s is a string ("text"), not a mapping with "length"');
  });

  test("an escape applies to every substituted value but | raw ones, and makes a lone reference text", () => {
    const q = (s: string) => `<${s}>`;
    expect(compile("run {{ host }} {{ vars.pkg | raw }}", q)(scope)).toBe("run <web1> nginx");
    expect(compile("{{ vars.list }}", q)(scope)).toBe("<[1,2]>");
    expect(compile("{{ vars.list | raw }}", q)(scope)).toEqual([1, 2]);
    expect(compileFields({ cmd: "x {{ host }}", env: { H: "{{ host }}" } }, (k) => (k === "cmd" ? q : undefined))(scope)).toEqual({ cmd: "x <web1>", env: { H: "web1" } });
  });

  test("a missing item field throws a TemplateError naming it", () => {
    expect(() => renderString("{{ item.missing }}", scope)).toThrow(TemplateError);
    expect(() => renderString("{{ item.missing }}", scope)).toThrow('no "missing" in item');
  });
});
