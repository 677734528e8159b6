import { describe, expect, test } from "bun:test";
import { instanceKey, secretsDigest } from "./instance_key.ts";

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
