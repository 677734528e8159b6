/** Cross-checks of a plan, through loadPlan: each error with file:line:col. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { planErrors as errorsOf, writeFiles } from "../test_helpers.ts";
import { loadPlan } from "./load.ts";

describe("checkHosts › duplicate hosts", () => {
  test("a host listed twice, in the plan or in a task, is an error at the repeat", async () => {
    expect(await errorsOf(`version: 1
hosts: [h1, h2, h1]
tasks:
  - { name: a, module: debug, with: { message: x }, hosts: [h2, h2] }
`)).toEqual([
      `plan.yml:2:17: hosts[2]: duplicate host "h1" (already hosts[0]); list each host once`,
      `plan.yml:4:65: tasks[0].hosts[1]: duplicate host "h2" (already tasks[0].hosts[0]); list each host once`,
    ]);
  });
});

const FORMS = "expected {{ host }}, {{ item }}, {{ item.field }}, {{ vars.name }}, {{ secrets.name }} or {{ task }}, optionally with | raw";

describe("checkTemplates", () => {
  const withItems = (items: string, message: string) => `version: 1
vars: { a: { port: 80, list: [1, 2] }, s: text }
tasks:
  - name: t
    module: debug
    items: ${items}
    with: { message: "${message}" }
`;

  test("an unclosed {{ is an error", async () => {
    for (const text of ["{{ item", "a {{ b", "{{ item }} and {{ host"]) {
      expect(await errorsOf(withItems("[x]", text))).toEqual([
        `plan.yml:7:22: tasks[0].with.message: unclosed "{{" in ${JSON.stringify(text)}: close it with "}}" (${FORMS})`,
      ]);
    }
  });

  test("item.x on scalar items, or on items_from, is an error", async () => {
    expect(await errorsOf(withItems("[a, 2]", "{{ item.x }}"))).toEqual([
      `plan.yml:7:22: tasks[0].with.message: {{ item.x }}: items[0] is a string ("a"), not a mapping with "x"`,
    ]);
    expect(await errorsOf(`version: 1
tasks:
  - { name: t, module: debug, items_from: { file: list.txt }, with: { message: "{{ item.name }}" } }
`, { "list.txt": "a\n" })).toEqual([
      `plan.yml:3:80: tasks[0].with.message: {{ item.name }}: items from items_from are strings (file paths or lines), not mappings with "name"`,
    ]);
  });

  test("object items must all have the field: the first one without it is named", async () => {
    expect(await errorsOf(withItems("[{ name: a, port: 1 }, { name: b }, { name: c }]", "{{ item.port }}"))).toEqual([
      `plan.yml:7:22: tasks[0].with.message: {{ item.port }}: no "port" in items[1]; it has: name`,
    ]);
    expect(await errorsOf(withItems("[{ s: { x: 1 } }, { s: { y: 2 } }]", "{{ item.s.x }}"))).toEqual([
      `plan.yml:7:22: tasks[0].with.message: {{ item.s.x }}: no "x" in items[1].s (did you mean "y"?); it has: y`,
    ]);
  });

  test("a nested var that does not exist is caught at load, with a suggestion", async () => {
    expect(await errorsOf(withItems("[x]", "{{ vars.a.pot }} {{ vars.a.list.5 }}"))).toEqual([
      `plan.yml:7:22: tasks[0].with.message: {{ vars.a.pot }}: no "pot" in vars.a (did you mean "port"?); it has: port, list`,
      `plan.yml:7:22: tasks[0].with.message: {{ vars.a.list.5 }}: no "5" in vars.a.list; it has: 0, 1`,
    ]);
  });

  test("templates never walk prototypes", async () => {
    expect(await errorsOf(withItems("[{ n: 1 }]", "{{ vars.constructor }} {{ item.__proto__ }} {{ vars.s.toString }} {{ vars.a.hasOwnProperty }} {{ host.length }}"))).toEqual([
      `plan.yml:7:22: tasks[0].with.message: {{ vars.constructor }}: no variable "constructor"; defined: a, s`,
      `plan.yml:7:22: tasks[0].with.message: {{ item.__proto__ }}: no "__proto__" in items[0]; it has: n`,
      `plan.yml:7:22: tasks[0].with.message: {{ vars.s.toString }}: vars.s is a string ("text"), not a mapping with "toString"`,
      `plan.yml:7:22: tasks[0].with.message: {{ vars.a.hasOwnProperty }}: no "hasOwnProperty" in vars.a; it has: port, list`,
      `plan.yml:7:22: tasks[0].with.message: {{ host.length }}: host is a string, not a mapping with "length"`,
    ]);
  });

  test("--var values count as defined; a present path loads", async () => {
    const dir = writeFiles({ "plan.yml": withItems("[{ port: 1 }]", "{{ vars.extra }} {{ vars.a.list.1 }} {{ item.port }} {{ vars.s | raw }}") });
    const plan = await loadPlan(join(dir, "plan.yml"), { vars: { extra: "e" } });
    expect(plan.tasks[0]!.input({ host: "h", item: { port: 1 }, vars: plan.vars, task: "t" })).toEqual({ message: "e 2 1 text" });
  });

  test("in shell code a reference must stand where a quoted word can", async () => {
    const errors = await errorsOf(`version: 1
tasks:
  - name: t
    module: shell
    items: [x]
    with:
      shell: true
      cmd: |
        echo '{{ item }}' "{{ item }}" \`echo {{ item }}\` \\{{ item }} # {{ item }}
        echo "$(echo {{ item }})" {{ item | raw }} '{{ item | raw }}'
        cat <<EOF
        {{ item }}
        EOF
`);
    const at = "plan.yml:8:12: tasks[0].with.cmd: {{ item }} ";
    expect(errors).toEqual([
      `${at}stands inside quotes in shell code, where the quotes fanout adds around a value would be undone: remove the quotes around it (the value arrives as one word, byte for byte)`,
      `${at}stands inside quotes in shell code, where the quotes fanout adds around a value would be undone: remove the quotes around it (the value arrives as one word, byte for byte)`,
      `${at}stands inside \`…\` in shell code, where quoting is read twice: write $( … ) instead`,
      `${at}directly follows \\ or $ in shell code, which would change how its quotes are read: separate them`,
      `${at}stands inside a shell comment, which a value holding a newline would end: move it out of the comment`,
      `${at}follows a here-document (<<) in shell code, where a value cannot be quoted: pass it through env: instead`,
    ]);
  });

  test("a reference with anything but | raw after it is not a plain reference", async () => {
    expect(await errorsOf(withItems("[x]", "{{ item | upper }}"))).toEqual([
      `plan.yml:7:22: tasks[0].with.message: template {{ item | upper }} is not a plain reference; ${FORMS}`,
    ]);
  });
});
