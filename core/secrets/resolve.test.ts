/** Plan secrets at load: values from env and file, errors naming the secret, the source and the position. */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import process from "node:process";
import { loadPlan } from "../plan/load.ts";
import { planErrors, writeFiles } from "../test_helpers.ts";

const ENV = "FANOUT_TEST_SECRET_RESOLVE";
afterEach(() => delete process.env[ENV]);

const plan = (secrets: string, cmd = "echo {{ secrets.token }}") => `version: 1
secrets:
${secrets}
tasks:
  - name: a
    module: shell
    with: { cmd: "${cmd}", shell: true }
`;

describe("resolveSecrets › values", () => {
  test("from an environment variable and from a file relative to the plan, trailing line breaks removed", async () => {
    process.env[ENV] = "from-env-value";
    const dir = writeFiles({
      "plan.yml": plan(`  token: { env: ${ENV} }\n  other: { file: keys/other.txt }`),
      "keys/other.txt": "from-file-value\n\n",
    });
    const loaded = await loadPlan(join(dir, "plan.yml"));
    expect(loaded.secrets).toEqual({ token: "from-env-value", other: "from-file-value" });
    expect(Object.isFrozen(loaded.secrets)).toBe(true);
    // Never in vars.
    expect(Object.values(loaded.vars)).not.toContain("from-env-value");
  });

  test("a value shorter than 4 characters is a warning (and an error with --strict)", async () => {
    process.env[ENV] = "abc";
    const dir = writeFiles({ "plan.yml": plan(`  token: { env: ${ENV} }`) });
    const loaded = await loadPlan(join(dir, "plan.yml"));
    expect(loaded.warnings).toEqual([expect.stringMatching(/plan\.yml:3:17: secrets\.token\.env: secret "token" is only 3 characters long: every occurrence/)]);
    expect(await planErrors(plan(`  token: { env: ${ENV} }`), {}, { strict: true })).toEqual([
      expect.stringMatching(/^plan\.yml:3:17: secrets\.token\.env: secret "token" is only 3 characters long.*\(an error with --strict\)$/),
    ]);
  });
});

describe("resolveSecrets › errors", () => {
  test("a variable that is not set names the secret, the variable and the position", async () => {
    expect(await planErrors(plan(`  token: { env: ${ENV} }`))).toEqual([
      `plan.yml:3:17: secrets.token.env: secret "token": environment variable ${ENV} is not set`,
    ]);
  });

  test("an empty variable is an error too", async () => {
    process.env[ENV] = "";
    expect(await planErrors(plan(`  token: { env: ${ENV} }`))).toEqual([
      `plan.yml:3:17: secrets.token.env: secret "token": environment variable ${ENV} is empty`,
    ]);
  });

  test("a missing or empty file names the secret and the file", async () => {
    expect(await planErrors(plan(`  token: { file: nope.txt }`))).toEqual([
      `plan.yml:3:18: secrets.token.file: secret "token": file nope.txt (DIR/nope.txt) not found`,
    ]);
    expect(await planErrors(plan(`  token: { file: empty.txt }`), { "empty.txt": "\n" })).toEqual([
      `plan.yml:3:18: secrets.token.file: secret "token": file empty.txt is empty`,
    ]);
  });

  test("a malformed source says what is expected", async () => {
    const [message] = await planErrors(plan(`  token: { vault: x }`));
    expect(message).toStartWith("plan.yml:3:10: secrets.token: expected a secret as { env: VARIABLE } or { file: path }");
  });

  test("an unknown secret in a template is an error, with a suggestion", async () => {
    process.env[ENV] = "value-1234";
    expect(await planErrors(plan(`  token: { env: ${ENV} }`, "echo {{ secrets.tokn }}"))).toEqual([
      `plan.yml:7:18: tasks[0].with.cmd: {{ secrets.tokn }}: no secret "tokn" (did you mean "token"?); declared under secrets: token`,
    ]);
  });

  test("vars cannot reach a secret", async () => {
    process.env[ENV] = "value-1234";
    expect(await planErrors(plan(`  token: { env: ${ENV} }`, "echo {{ vars.token }}"))).toEqual([
      `plan.yml:7:18: tasks[0].with.cmd: {{ vars.token }}: no variable "token"; defined: none`,
    ]);
  });

  test("a secret in a hint key is refused: guard names are printed", async () => {
    process.env[ENV] = "value-1234";
    const errors = await planErrors(`version: 1
secrets: { token: { env: ${ENV} } }
tasks:
  - { name: a, module: sleep, with: { duration: 1ms }, hint: { kind: host_exclusive, key: "{{ secrets.token }}" } }
`);
    expect(errors).toEqual([expect.stringMatching(/^plan\.yml:4:\d+: tasks\[0\]\.hint\.key: \{\{ secrets\.token \}\}: secrets cannot be used in a hint key/)]);
  });
});
