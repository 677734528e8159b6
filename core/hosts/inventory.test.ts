/** Hosts in a plan and in an inventory: their shapes, groups, host vars, and errors at file:line:col. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { buildGraph } from "../graph.ts";
import { loadPlan } from "../plan/load.ts";
import { checkedInput } from "../run_task.ts";
import { planErrors as errorsOf, writeFiles } from "../test_helpers.ts";

async function load(yaml: string, files: Record<string, string> = {}) {
  const dir = writeFiles({ "plan.yml": yaml, ...files });
  return await loadPlan(join(dir, "plan.yml"));
}

describe("plan hosts", () => {
  test("a plain string stays a local label; a mapping says how to reach the host", async () => {
    const plan = await load(`version: 1
ssh_options: [ConnectTimeout=5]
hosts:
  - db
  - { name: web1, address: 10.0.0.5, port: 2222, user: deploy, connection: ssh, vars: { role: front }, ssh_options: { IdentitiesOnly: true } }
tasks:
  - { name: a, module: debug, with: { message: "{{ host }}" } }
`);
    expect(plan.hosts).toEqual(["db", "web1"]);
    expect(plan.hostInfo!.db).toEqual({ name: "db", connection: "local", vars: {}, sshOptions: [] });
    expect(plan.hostInfo!.web1).toEqual({
      name: "web1",
      connection: "ssh",
      address: "10.0.0.5",
      port: 2222,
      user: "deploy",
      vars: { role: "front" },
      sshOptions: ["ConnectTimeout=5", "IdentitiesOnly=yes"],
    });
  });

  test("connection: ssh plan-wide makes string hosts ssh hosts; a host may still say local", async () => {
    const plan = await load(`version: 1
connection: ssh
hosts: [web1, { name: here, connection: local }]
tasks:
  - { name: a, module: debug, with: { message: hi } }
`);
    expect(plan.hostInfo!.web1!.connection).toBe("ssh");
    expect(plan.hostInfo!.here!.connection).toBe("local");
  });

  test("no hosts: [localhost], a local label", async () => {
    const plan = await load(`version: 1
tasks:
  - { name: a, module: debug, with: { message: hi } }
`);
    expect(plan.hosts).toEqual(["localhost"]);
    expect(plan.hostInfo!.localhost!.connection).toBe("local");
  });
});

describe("inventory", () => {
  const inventory = `hosts:
  - { name: web1, address: 127.0.0.1, connection: ssh, vars: { port: 8081 } }
  - { name: web2, address: 127.0.0.1, connection: ssh, vars: { port: 8082 } }
  - db
groups:
  web: [web1, web2]
`;

  test("hosts: web selects a group; {{ host }} is the name and {{ host.vars.x }} the host's var", async () => {
    const plan = await load(`version: 1
inventory: hosts.yml
tasks:
  - name: a
    module: shell
    hosts: web
    with: { argv: [echo, "{{ host }}", "{{ host.vars.port }}", "on {{ host }}:{{ host.vars.port }}"] }
  - { name: b, module: debug, with: { message: hi }, hosts: [db, web] }
`, { "hosts.yml": inventory });
    expect(plan.hosts).toEqual(["web1", "web2", "db"]);
    expect(plan.tasks[0]!.hosts).toEqual(["web1", "web2"]);
    expect(plan.tasks[1]!.hosts).toEqual(["db", "web1", "web2"]);
    const graph = buildGraph(plan);
    const inputs = graph.groups.filter((g) => g.task.name === "a").map((g) => checkedInput(g.instance(0), g.task, plan.vars, plan.secrets, plan.hostInfo));
    expect(inputs).toEqual([
      { input: { argv: ["echo", "web1", "8081", "on web1:8081"], output: "capture" } },
      { input: { argv: ["echo", "web2", "8082", "on web2:8082"], output: "capture" } },
    ]);
  });

  test("problems in the inventory point into the inventory file", async () => {
    const errors = await errorsOf(`version: 1
inventory: hosts.yml
tasks:
  - { name: a, module: debug, with: { message: hi } }
`, {
      "hosts.yml": `hosts:
  - { name: web1, port: http }
  - { name: web2, conection: ssh }
groups:
  web: [web1, web3]
`,
    });
    expect(errors).toEqual([
      'DIR/hosts.yml:2:25: hosts[0].port: expected port as a whole number from 1 to 65535, got "http"',
      'DIR/hosts.yml:3:19: hosts[1].conection: unknown key "conection" (did you mean "connection"?); expected one of: name, address, port, user, connection, vars, ssh_options',
    ]);
  });

  test("a group naming a host the inventory lacks is an error at the member", async () => {
    expect(await errorsOf(`version: 1
inventory: hosts.yml
tasks:
  - { name: a, module: debug, with: { message: hi } }
`, { "hosts.yml": "hosts: [web1, web2]\ngroups:\n  web: [web1, web3]\n" })).toEqual([
      'DIR/hosts.yml:3:15: groups.web[1]: unknown host "web3" (did you mean "web1"?); expected one of the inventory\'s hosts: web1, web2',
    ]);
  });

  test("a missing inventory file is an error at the plan's inventory key", async () => {
    expect(await errorsOf(`version: 1
inventory: nope.yml
tasks:
  - { name: a, module: debug, with: { message: hi } }
`)).toEqual(["plan.yml:2:12: inventory: inventory file not found: DIR/nope.yml"]);
  });

  test("unknown hosts or groups in a task, and host vars no host has, are errors in the plan", async () => {
    const errors = await errorsOf(`version: 1
inventory: hosts.yml
tasks:
  - { name: a, module: debug, hosts: wbe, with: { message: hi } }
  - { name: b, module: debug, hosts: web, with: { message: "{{ host.vars.prot }}" } }
  - { name: c, module: debug, hosts: web, with: { message: "{{ host.name }}" } }
`, { "hosts.yml": inventory });
    expect(errors).toEqual([
      `plan.yml:4:38: tasks[0].hosts: unknown host "wbe"; expected one of the plan's hosts or groups: web1, web2, db, web`,
      `plan.yml:5:60: tasks[1].with.message: {{ host.vars.prot }}: no "prot" in host web1's vars; it has: port`,
      `plan.yml:6:60: tasks[2].with.message: {{ host.name }}: host is a string, not a mapping with "name"`,
    ]);
  });

  test("a host in both the plan and the inventory is an error", async () => {
    const errors = await errorsOf(`version: 1
hosts: [web1]
inventory: hosts.yml
tasks:
  - { name: a, module: debug, with: { message: hi } }
`, { "hosts.yml": inventory });
    expect(errors).toEqual([expect.stringMatching(/^DIR\/hosts\.yml:2:5: hosts\[0\]: host "web1" is also in the plan's hosts/)]);
  });
});
