import { describe, expect, test } from "bun:test";
import { sha256 } from "../runtime/sha256.ts";
import { instanceKey, jsonOf, type KeyParts, secretsDigest, TaskKeyText } from "./instance_key.ts";

const base = { plan: "p", task: "t", host: "h", item: "a", input: { cmd: "x" }, module: "builtin:shell@0.1.0", secrets: "" };

describe("instanceKey", () => {
  test("changes with each part, and is the same for the same parts", () => {
    const k = instanceKey(base);
    expect(instanceKey({ ...base })).toBe(k);
    for (const change of [{ plan: "q" }, { task: "u" }, { host: "g" }, { item: "b" }, { input: { cmd: "y" } }, { module: "builtin:shell@0.2.0" }, { vars: { v: 1 } }, { secrets: "s" }]) {
      expect(instanceKey({ ...base, ...change })).not.toBe(k);
    }
  });
});

describe("secretsDigest", () => {
  test("depends on the salt and on every value, never holds a value in clear; no values is empty", () => {
    const d = secretsDigest("salt1", ["hunter2", "tok"]);
    expect(d).not.toContain("hunter2");
    expect(secretsDigest("salt2", ["hunter2", "tok"])).not.toBe(d);
    expect(secretsDigest("salt1", ["hunter3", "tok"])).not.toBe(d);
    expect(secretsDigest("salt1", ["hunter2t", "ok"])).not.toBe(d);
    expect(secretsDigest("salt1", ["hunter2", "tok"])).toBe(d);
    expect(secretsDigest("salt1", [])).toBe("");
  });
});

describe("TaskKeyText", () => {
  test("gives the key of the format journals already hold: sha256 of JSON.stringify([plan, task, host, item, input, module, vars, secrets])", () => {
    const cases: KeyParts[] = [
      base,
      { ...base, item: undefined, input: undefined, vars: undefined },
      { ...base, item: { name: "x", n: [1, 2] }, input: { argv: ["a", "\"q\""] }, vars: { v: 1 }, secrets: "abc" },
      { ...base, input: () => 1, item: null },
    ];
    for (const p of cases) {
      const text = JSON.stringify([p.plan, p.task, p.host, p.item ?? null, p.input ?? null, p.module, p.vars ?? null, p.secrets]);
      expect(instanceKey(p)).toBe(sha256(text));
      expect(new TaskKeyText(p).key(p.host, jsonOf(p.item), jsonOf(p.input), p.secrets)).toBe(sha256(text));
    }
  });
});
