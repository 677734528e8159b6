/**
 * TaggedLines, fed chunks as a pipe may cut them: only whole lines go out,
 * each write ends a line, characters cut between chunks come out whole.
 */
import { describe, expect, test } from "bun:test";
import { MAX_LINE_CHARS, TaggedLines } from "./tagged_lines.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function feed(chunks: [("stdout" | "stderr"), Uint8Array][]): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const lines = new TaggedLines("t[h]", (s) => out.push(s), (s) => err.push(s));
  for (const [stream, chunk] of chunks) lines.chunk(stream, chunk);
  lines.end();
  return { out, err };
}

describe("TaggedLines", () => {
  test("writes only whole lines, each tagged; the partial last line at the end", () => {
    const { out, err } = feed([["stdout", bytes("a\nb")], ["stdout", bytes("c\nd\n")], ["stderr", bytes("e")], ["stdout", bytes("tail")]]);
    expect(out).toEqual(["t[h]\ta\n", "t[h]\tbc\nt[h]\td\n", "t[h]\ttail\n"]);
    expect(err).toEqual(["t[h]\te\n"]);
    for (const write of out) expect(write).toEndWith("\n");
  });

  test("a character cut between two chunks comes out whole; bytes that are not UTF-8 as U+FFFD, as in the capture", () => {
    const euro = bytes("€\n"); // e2 82 ac 0a
    const { out } = feed([["stdout", euro.subarray(0, 1)], ["stdout", euro.subarray(1)], ["stdout", Uint8Array.of(0xff, 0x0a)]]);
    expect(out).toEqual(["t[h]\t€\n", "t[h]\t\uFFFD\n"]);
  });

  test("keeps a byte-order mark and control characters as written", () => {
    const { out } = feed([["stdout", bytes("\uFEFFx\x01\x1b[31m\r\n")]]);
    expect(out).toEqual(["t[h]\t\uFEFFx\x01\x1b[31m\r\n"]);
  });

  test("a line longer than MAX_LINE_CHARS goes out in pieces, each a line, nothing lost", () => {
    const long = "x".repeat(MAX_LINE_CHARS * 3 + 10);
    const chunks: [("stdout"), Uint8Array][] = [];
    for (let i = 0; i < long.length; i += 4096) chunks.push(["stdout", bytes(long.slice(i, i + 4096))]);
    chunks.push(["stdout", bytes("\nnext\n")]);
    const { out } = feed(chunks);
    const lines = out.join("").split("\n").slice(0, -1);
    expect(lines.length).toBeGreaterThanOrEqual(4); // three pieces at least, and "next"
    expect(lines.at(-1)).toBe("t[h]\tnext");
    for (const line of lines) expect(line).toStartWith("t[h]\t");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(5 + MAX_LINE_CHARS + 4096);
    expect(lines.map((l) => l.slice(5)).join("")).toBe(long + "next");
  });

  test("nothing written for streams that wrote nothing", () => {
    expect(feed([])).toEqual({ out: [], err: [] });
  });
});
