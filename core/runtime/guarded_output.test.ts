/**
 * GuardedOutput against streams that fail the ways Bun's and Deno's do: an
 * 'error' event with a write callback error (Bun, Deno on a pipe), a throw
 * from write() (Deno on a full disk), a callback that never comes after the
 * failure (Deno). Real processes are in cli_faults.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { GuardedOutput } from "./guarded_output.ts";

type Behaviour = "ok" | "event" | "throw" | "hang";

/** A stream whose next write behaves as `behaviour` says, failing with `code`. */
class FakeStream extends EventEmitter {
  written: string[] = [];
  behaviour: Behaviour = "ok";
  code = "ENOSPC";
  write(text: string, callback?: (error?: Error | null) => void): boolean {
    const error = Object.assign(new Error(`${this.code}: write failed`), { code: this.code });
    if (this.behaviour === "throw") throw error;
    this.written.push(text);
    if (this.behaviour === "hang") return false;
    queueMicrotask(() => {
      if (this.behaviour === "event") {
        callback?.(error);
        this.emit("error", error);
      } else callback?.(null);
    });
    return true;
  }
}

function guarded(failLoudly: boolean) {
  const stream = new FakeStream();
  const out = new GuardedOutput(() => stream, failLoudly);
  const failures: Error[] = [];
  out.onFailure = (e) => failures.push(e);
  return { stream, out, failures };
}

describe("GuardedOutput", () => {
  test("a closed pipe (EPIPE) stops output quietly; later writes are dropped and still call done", async () => {
    const { stream, out, failures } = guarded(true);
    stream.code = "EPIPE";
    stream.behaviour = "event";
    out.write("a\n");
    await out.drained();
    stream.behaviour = "ok";
    let done = false;
    out.write("b\n", () => (done = true));
    expect([stream.written, done, failures, out.failure]).toEqual([["a\n"], true, [], undefined]);
  });

  test("another write error (ENOSPC) on a loud stream is reported once, as failure and to onFailure", async () => {
    const { stream, out, failures } = guarded(true);
    stream.behaviour = "event";
    out.write("a\n");
    out.write("b\n");
    await out.drained();
    expect(failures.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(["ENOSPC"]);
    expect((out.failure as NodeJS.ErrnoException).code).toBe("ENOSPC");
  });

  test("a quiet stream (stderr) swallows every error", async () => {
    const { stream, out, failures } = guarded(false);
    stream.behaviour = "throw";
    out.write("a\n");
    await out.drained();
    expect([failures, out.failure]).toEqual([[], undefined]);
  });

  test("write() throwing (Deno) counts as a failure; writes it left pending are released", async () => {
    const { stream, out, failures } = guarded(true);
    stream.behaviour = "hang";
    const done: string[] = [];
    out.write("a\n", () => done.push("a"));
    expect(done).toEqual([]);
    stream.behaviour = "throw";
    out.write("b\n", () => done.push("b"));
    await out.drained();
    expect(done.sort()).toEqual(["a", "b"]);
    expect(failures.length).toBe(1);
  });

  test("drained() waits for the writes in flight", async () => {
    const { stream, out } = guarded(true);
    let done = 0;
    for (let i = 0; i < 3; i++) out.write(`${i}\n`, () => done++);
    await out.drained();
    expect([done, stream.written.length]).toEqual([3, 3]);
  });
});
