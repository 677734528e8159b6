import { expect, test } from "bun:test";
import { tmpdir } from "node:os";
import process from "node:process";
import { systemTempDir } from "./temp_dir.ts";

test("systemTempDir gives what os.tmpdir() gives for this process's environment", () => {
  expect(systemTempDir()).toBe(tmpdir());
});

test("systemTempDir follows TMPDIR, then TMP, then TEMP, else /tmp, without a trailing slash", () => {
  expect(systemTempDir({ TMPDIR: "/scratch/" })).toBe("/scratch");
  expect(systemTempDir({ TMP: "/t", TEMP: "/u" })).toBe("/t");
  expect(systemTempDir({ TEMP: "/u" })).toBe("/u");
  expect(systemTempDir({ TMPDIR: "" })).toBe("/tmp");
  expect(systemTempDir({})).toBe("/tmp");
  expect(systemTempDir({ TMPDIR: "/" })).toBe("/");
});

test("systemTempDir agrees with os.tmpdir() when TMPDIR is set", () => {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = "/var/tmp/fanout-check/";
  try {
    expect(systemTempDir()).toBe(tmpdir());
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});
