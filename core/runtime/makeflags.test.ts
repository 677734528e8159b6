import { describe, expect, test } from "bun:test";
import { childMakeflags, hasJobserverWords, parseMakeflags } from "./makeflags.ts";

describe("parseMakeflags", () => {
  test("reads GNU make 4.3's pipe form and its -jN", () => {
    expect(parseMakeflags(" -j3 --jobserver-auth=3,4")).toEqual({ auth: { style: "pipe", read: 3, write: 4 }, jobs: 3 });
  });

  test("reads make 4.4's fifo form; -j without a number says no limit", () => {
    expect(parseMakeflags("ks -j --jobserver-auth=fifo:/tmp/GMfifo1")).toEqual({ auth: { style: "fifo", path: "/tmp/GMfifo1" } });
  });

  test("the last of --jobserver-auth and --jobserver-fds wins, as in make, ninja and the jobserver crate", () => {
    expect(parseMakeflags("-j --jobserver-fds=5,6 --jobserver-auth=7,8").auth).toEqual({ style: "pipe", read: 7, write: 8 });
    expect(parseMakeflags("--jobserver-auth=fifo:/a --jobserver-auth=5,6").auth).toEqual({ style: "pipe", read: 5, write: 6 });
  });

  test("negative descriptors mean the parent withheld its jobserver: none, and not invalid", () => {
    expect(parseMakeflags(" -j2 --jobserver-auth=-2,-2")).toEqual({ jobs: 2 });
  });

  test("an auth word of another shape is reported, not guessed at", () => {
    expect(parseMakeflags("--jobserver-auth=sem_name").invalid).toContain("neither fifo:PATH nor R,W");
    expect(parseMakeflags("--jobserver-auth=fifo:").invalid).toContain("no fifo path");
  });

  test("no MAKEFLAGS, or none of its words: no jobserver", () => {
    expect(parseMakeflags(undefined)).toEqual({});
    expect(parseMakeflags("ks")).toEqual({});
  });

  test("words after -- are variable assignments, never options", () => {
    expect(parseMakeflags("k -- X=--jobserver-auth=3,4")).toEqual({});
  });
});

describe("childMakeflags", () => {
  test("replaces inherited -j and jobserver words with fanout's, keeping every other flag and the assignments", () => {
    expect(childMakeflags("ks -j2 --jobserver-auth=3,4 -- CC=gcc\\ -O2", { style: "pipe", read: 3, write: 4 }, 5))
      .toBe("ks -j5 --jobserver-auth=3,4 -- CC=gcc\\ -O2");
    expect(childMakeflags(undefined, { style: "fifo", path: "/tmp/f" }, 3)).toBe("-j3 --jobserver-auth=fifo:/tmp/f");
  });

  test("without an auth (jobserver: false) only strips the inherited one", () => {
    expect(childMakeflags(" -j2 --jobserver-auth=fifo:/x", undefined, 9)).toBe("");
    expect(hasJobserverWords("k")).toBe(false);
    expect(hasJobserverWords("k -j4")).toBe(true);
  });
});
