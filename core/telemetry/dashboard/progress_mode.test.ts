import { describe, expect, test } from "bun:test";
import { useDashboard } from "./progress_mode.ts";

const tty = { tty: true, env: { TERM: "xterm-256color" }, output: false };

describe("useDashboard", () => {
  test("auto: on a terminal only, and not with NO_COLOR, TERM=dumb or --output", () => {
    expect(useDashboard("auto", tty)).toBe(true);
    expect(useDashboard("auto", { ...tty, tty: false })).toBe(false);
    expect(useDashboard("auto", { ...tty, env: { NO_COLOR: "1" } })).toBe(false);
    expect(useDashboard("auto", { ...tty, env: { NO_COLOR: "" } })).toBe(true);
    expect(useDashboard("auto", { ...tty, env: { TERM: "dumb" } })).toBe(false);
    expect(useDashboard("auto", { ...tty, output: true })).toBe(false);
  });

  test("always and never win over everything", () => {
    expect(useDashboard("always", { tty: false, env: { NO_COLOR: "1", TERM: "dumb" }, output: true })).toBe(true);
    expect(useDashboard("never", tty)).toBe(false);
  });
});
