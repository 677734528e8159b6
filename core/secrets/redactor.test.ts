/** Redactor: every occurrence masked, JSON kept valid, nothing else touched. */
import { describe, expect, test } from "bun:test";
import { MASK, Redactor } from "./redactor.ts";

describe("Redactor › text", () => {
  test("masks every occurrence of every secret", () => {
    const r = new Redactor(["hunter22", "tok-1234"]);
    expect(r.text("a hunter22 b tok-1234 c hunter22")).toBe(`a ${MASK} b ${MASK} c ${MASK}`);
  });

  test("a secret that contains another is masked whole, not in part", () => {
    const r = new Redactor(["abcd", "xxabcdxx"]);
    expect(r.text("[xxabcdxx] [abcd]")).toBe("[***] [***]");
  });

  test("each line of a multi-line secret is masked on its own too", () => {
    const r = new Redactor(["line-one\nline-two\nab"]);
    expect(r.text("whole: line-one\nline-two\nab")).toBe("whole: ***");
    expect(r.text("only: line-two")).toBe("only: ***");
    // A line shorter than MIN_SECRET_LENGTH is not a secret on its own.
    expect(r.text("ab")).toBe("ab");
  });

  test("with no secrets it is the identity, and inactive", () => {
    expect(Redactor.none.active).toBe(false);
    expect(new Redactor([""]).active).toBe(false);
    expect(Redactor.none.text("anything")).toBe("anything");
  });
});

describe("Redactor › json", () => {
  const tricky = 's3"cr\\et\tx';
  const r = new Redactor([tricky, "1234"]);

  test("masks a secret as JSON.stringify escapes it, and the line still parses", () => {
    const line = JSON.stringify({ error: `failed: ${tricky}!`, data: { [tricky]: [tricky] } });
    const masked = r.json(line);
    expect(JSON.parse(masked)).toEqual({ error: "failed: ***!", data: { "***": ["***"] } });
  });

  test("never matches inside an escape sequence, so the JSON stays valid", () => {
    // "nabc" occurs in the text `\nabc` but not in the string, whose characters are newline, a, b, c.
    const s = new Redactor(["nabc", "001f"]);
    const line = JSON.stringify({ m: "x\nabc", u: "\u001f 001f" });
    expect(line).toContain("\\nabc");
    expect(line).toContain("\\u001f 001f");
    const masked = s.json(line);
    expect(JSON.parse(masked)).toEqual({ m: "x\nabc", u: "\u001f ***" });
  });

  test("numbers and literals are left as they are; strings are masked", () => {
    const line = JSON.stringify({ t_ms: 1234, pin: "1234", ok: true });
    expect(JSON.parse(r.json(line))).toEqual({ t_ms: 1234, pin: MASK, ok: true });
  });

  test("jsonLines masks JSON lines as JSON and other lines as text", () => {
    const text = `${JSON.stringify({ a: tricky })}\nplain ${tricky}\n`;
    const [first, second] = r.jsonLines(text).split("\n");
    expect(JSON.parse(first!)).toEqual({ a: MASK });
    expect(second).toBe("plain ***");
  });
});

describe("Redactor › value", () => {
  test("masks strings and keys deeply; returns the same object when nothing changed", () => {
    const r = new Redactor(["secret-value"]);
    const clean = { a: [1, "x"], b: { c: null } };
    expect(r.value(clean)).toBe(clean);
    expect(r.value<unknown>({ a: ["secret-value", 2], "k-secret-value": { d: "secret-value." } })).toEqual({ a: ["***", 2], "k-***": { d: "***." } });
  });
});
