import { expect, test } from "bun:test";
import { tmpdir } from "node:os";
import process from "node:process";
import { tempDir } from "./temp_dir.ts";

test("tempDir gives what os.tmpdir() gives for this process's environment", () => {
  expect(tempDir()).toBe(tmpdir());
});

test("tempDir follows TMPDIR, then TMP, then TEMP, else /tmp, without a trailing slash", () => {
  expect(tempDir({ TMPDIR: "/scratch/" })).toBe("/scratch");
  expect(tempDir({ TMP: "/t", TEMP: "/u" })).toBe("/t");
  expect(tempDir({ TEMP: "/u" })).toBe("/u");
  expect(tempDir({ TMPDIR: "" })).toBe("/tmp");
  expect(tempDir({})).toBe("/tmp");
  expect(tempDir({ TMPDIR: "/" })).toBe("/");
});

test("tempDir agrees with os.tmpdir() when TMPDIR is set", () => {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = "/var/tmp/fanout-check/";
  try {
    expect(tempDir()).toBe(tmpdir());
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});
