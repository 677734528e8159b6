/**
 * FdStream: bytes reach the descriptor whole and in order, every callback
 * comes, and a refused write (EAGAIN) hands everything on to the fallback
 * stream in order. Real closed pipes and full disks are in cli_faults.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { closeSync, constants, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test_helpers.ts";
import { type FdWrite, FdStream } from "./fd_stream.ts";
import { makeFifo } from "./mkfifo.ts";

/** A fake fs.write: takes at most `max` bytes a call, or fails as `fail(call)` says. */
function fakeFd(max: number, fail: (call: number) => string | undefined = () => undefined) {
  const bytes: number[] = [];
  let calls = 0;
  const write: FdWrite = (_fd, buffer, offset, length, _position, callback) => {
    const code = fail(calls++);
    queueMicrotask(() => {
      if (code) return callback(Object.assign(new Error(code), { code }), 0);
      const n = Math.min(max, length);
      bytes.push(...buffer.subarray(offset, offset + n));
      callback(null, n);
    });
  };
  return { write, text: () => Buffer.from(bytes).toString("utf8"), calls: () => calls };
}

class FallbackStream extends EventEmitter {
  chunks: (string | Uint8Array)[] = [];
  write(data: string | Uint8Array, callback?: (error?: Error | null) => void): boolean {
    this.chunks.push(data);
    queueMicrotask(() => callback?.(null));
    return true;
  }
  text(): string {
    return this.chunks.map((c) => (typeof c === "string" ? c : Buffer.from(c).toString("utf8"))).join("");
  }
}

const noFallback = () => {
  throw new Error("fallback used");
};

function writeAll(stream: FdStream, texts: string[]): Promise<(Error | null | undefined)[]> {
  return Promise.all(texts.map((t) => new Promise<Error | null | undefined>((resolve) => stream.write(t, resolve))));
}

describe("FdStream", () => {
  test("a file gets every write whole and in order; every callback comes without error", async () => {
    const path = join(tempDir(), "out");
    const fd = openSync(path, "w");
    const texts = Array.from({ length: 200 }, (_, i) => `line ${i} ✓\n`);
    const errors = await writeAll(new FdStream(fd, noFallback), texts);
    closeSync(fd);
    expect(errors.every((e) => !e)).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(texts.join(""));
  });

  test("writes made while one is in flight leave together, after it", async () => {
    const fd = fakeFd(1 << 20);
    const errors = await writeAll(new FdStream(1, noFallback, fd.write), ["a", "b", "c", "d"]);
    expect(errors).toEqual([null, null, null, null]);
    expect(fd.text()).toBe("abcd");
    expect(fd.calls()).toBe(2);
  });

  test("a partial write is followed by the rest, even inside a character", async () => {
    const fd = fakeFd(3);
    await writeAll(new FdStream(1, noFallback, fd.write), ["héllo ", "wörld"]);
    expect(fd.text()).toBe("héllo wörld");
  });

  test("an error reaches the callbacks of the writes it took", async () => {
    const fd = fakeFd(1 << 20, (call) => (call === 0 ? "EPIPE" : undefined));
    const errors = await writeAll(new FdStream(1, noFallback, fd.write), ["a"]);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe("EPIPE");
  });

  test("EAGAIN hands the refused bytes, then what waited, then every later write to the fallback, in order", async () => {
    const fd = fakeFd(2, (call) => (call === 1 ? "EAGAIN" : undefined));
    const fallback = new FallbackStream();
    let created = 0;
    const stream = new FdStream(1, () => (created++, fallback), fd.write);
    const seen: Error[] = [];
    stream.on("error", (e) => seen.push(e));
    const first = writeAll(stream, ["abcd", "ef"]);
    const errors = await first;
    await writeAll(stream, ["gh"]);
    expect(errors).toEqual([null, null]);
    expect(created).toBe(1);
    expect(fd.text() + fallback.text()).toBe("abcdefgh");
    expect(fd.text()).toBe("ab");
    // The error listeners were handed on.
    fallback.emit("error", new Error("EIO"));
    expect(seen.map((e) => e.message)).toEqual(["EIO"]);
  });

  test("handOver: the write in flight ends on the descriptor; what waited and every later write go to the fallback, in order", async () => {
    const fd = fakeFd(1 << 20);
    const fallback = new FallbackStream();
    const stream = new FdStream(1, () => fallback, fd.write);
    const first = writeAll(stream, ["a"]); // in flight
    const waited = writeAll(stream, ["b"]);
    stream.handOver();
    await Promise.all([first, waited, writeAll(stream, ["c"])]);
    expect([fd.text(), fallback.text()]).toEqual(["a", "bc"]);
  });

  test("handOver with nothing in flight: the fallback takes the next write", async () => {
    const fallback = new FallbackStream();
    const stream = new FdStream(1, () => fallback, fakeFd(1).write);
    stream.handOver();
    await writeAll(stream, ["x"]);
    expect(fallback.text()).toBe("x");
  });

  test("a pipe nobody reads yet: the first 4 KiB are written before the event loop turns; the write that would pass 4 KiB, and those after it, wait for it", async () => {
    const path = join(tempDir(), "fifo");
    expect(makeFifo(path)).toBeUndefined();
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(path, constants.O_WRONLY);
    const stream = new FdStream(writer, noFallback, undefined, { used: 0 });
    const buffer = new Uint8Array(65536);
    const readNow = () => {
      try {
        return Buffer.from(buffer.subarray(0, readSync(reader, buffer))).toString("latin1");
      } catch {
        return ""; // EAGAIN: nothing there
      }
    };
    // Microtasks only: an asynchronous write's callback needs a turn of the event loop.
    const microtasks = async () => {
      for (let i = 0; i < 20; i++) await null;
    };
    const calls: string[] = [];
    stream.write("a".repeat(3000), () => calls.push("a"));
    stream.write("b".repeat(1000), () => calls.push("b"));
    await microtasks();
    expect(calls).toEqual(["a", "b"]);
    expect(readNow()).toBe("a".repeat(3000) + "b".repeat(1000));
    stream.write("c".repeat(200), () => calls.push("c")); // 4,200 bytes in all: past the 4 KiB
    stream.write("d", () => calls.push("d"));
    await microtasks();
    expect(calls).toEqual(["a", "b"]);
    let rest = "";
    while (rest.length < 201 || calls.length < 4) {
      rest += readNow();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(rest).toBe(`${"c".repeat(200)}d`);
    expect(calls).toEqual(["a", "b", "c", "d"]);
    closeSync(reader);
    closeSync(writer);
  });

  test("a pipe whose reader is slow never blocks the writer: more than the pipe holds is written while nothing reads", async () => {
    const path = join(tempDir(), "fifo");
    expect(makeFifo(path)).toBeUndefined();
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(path, constants.O_WRONLY);
    const text = "x".repeat(1024 * 1024); // 16 times what a Linux pipe holds
    let done = false;
    new FdStream(writer, noFallback).write(text, () => (done = true));
    // Had the write been made at once, it would have blocked above for ever: nothing has read yet.
    expect(done).toBe(false);
    let got = 0;
    const buffer = new Uint8Array(65536);
    while (got < text.length) {
      try {
        got += readSync(reader, buffer);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 1)); // EAGAIN: the writer is between writes
      }
    }
    await new Promise<void>((resolve) => (done ? resolve() : setTimeout(resolve, 50)));
    expect(got).toBe(text.length);
    expect(done).toBe(true);
    closeSync(reader);
    closeSync(writer);
  });
});
