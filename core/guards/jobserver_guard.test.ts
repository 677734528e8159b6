/**
 * JobserverGuard over a real jobserver pipe (a fifo made by ServedPipe): the
 * tokens a "command" takes are read from the descriptors a command is given.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readSync, writeSync } from "node:fs";
import { ServedPipe, TOKEN } from "../runtime/jobserver_pipe.ts";
import { JOBSERVER_POLL_MS, JobserverGuard, type TokenPool } from "./jobserver_guard.ts";

const pipes: ServedPipe[] = [];
afterEach(() => {
  for (const p of pipes.splice(0)) p.close();
});

/** A served pipe of `tokens`, already a fifo, and the descriptors a command would read and write. */
function served(tokens: number) {
  const pipe = new ServedPipe(tokens);
  pipes.push(pipe);
  const [read, write] = pipe.child("pipe").fds as [number, number];
  const command = {
    take: () => readSync(read, Buffer.alloc(1), 0, 1, null),
    give: () => writeSync(write, Uint8Array.of(TOKEN)),
  };
  return { pipe, command };
}

const turn = () => new Promise<void>((r) => queueMicrotask(r));

describe("JobserverGuard serving its own pipe", () => {
  test("grants up to the tokens in the pipe, then refuses; a release puts one back", () => {
    const { pipe } = served(3);
    const g = new JobserverGuard(3, pipe, false);
    expect([1, 2, 3].map(() => g.tryAcquire(1))).toEqual([true, true, true]);
    expect(g.tryAcquire(1)).toBe(false);
    g.release(1);
    expect(g.tryAcquire(1)).toBe(true);
  });

  test("a token a command takes is a slot fanout cannot take, until the command gives it back", () => {
    const { pipe, command } = served(3);
    const g = new JobserverGuard(3, pipe, false);
    expect(g.tryAcquire(1)).toBe(true);
    expect(command.take()).toBe(1);
    expect(command.take()).toBe(1);
    expect(g.available()).toBe(0);
    expect(g.tryAcquire(1)).toBe(false);
    command.give();
    expect(g.available()).toBe(1);
    expect(g.tryAcquire(1)).toBe(true);
  });

  test("a released token goes to the instance started next in the same turn, not through the pipe; unused, back to the pipe at the turn's end", async () => {
    const { pipe, command } = served(2);
    const calls = { take: 0, put: 0 };
    const counted: TokenPool = {
      take: () => (calls.take++, pipe.take()),
      put: (t) => (calls.put++, pipe.put(t)),
    };
    const g = new JobserverGuard(2, counted, false);
    expect([g.tryAcquire(1), g.tryAcquire(1)]).toEqual([true, true]);
    expect(calls).toEqual({ take: 2, put: 0 });
    g.release(1);
    expect(g.tryAcquire(1)).toBe(true);
    expect(calls).toEqual({ take: 2, put: 0 });
    g.release(1);
    expect(calls.put).toBe(0);
    await turn();
    expect(calls.put).toBe(1);
    expect(command.take()).toBe(1); // the command sees it
  });

  test("with every slot held by instances, neither available() nor tryAcquire() reads the pipe, and a stray token there does not raise the limit", () => {
    const { pipe, command } = served(2);
    let takes = 0;
    const g = new JobserverGuard(2, { take: () => (takes++, pipe.take()), put: (t) => pipe.put(t) }, false);
    expect([g.tryAcquire(1), g.tryAcquire(1)]).toEqual([true, true]);
    takes = 0;
    command.give(); // a command that writes a token it never took
    expect(g.available()).toBe(0);
    expect(g.tryAcquire(1)).toBe(false);
    expect(takes).toBe(0);
  });

  test("available() is exact, and a token it took that no instance used goes back at the end of the turn", async () => {
    const { pipe, command } = served(1);
    const g = new JobserverGuard(1, pipe, false);
    expect(g.available()).toBe(1);
    await turn();
    expect(command.take()).toBe(1);
    expect(g.available()).toBe(0);
  });

  test("waiting for a command's token is a poll of the scheduler's timer, not a busy loop", () => {
    const { pipe, command } = served(1);
    const g = new JobserverGuard(1, pipe, false);
    command.take();
    expect(g.readyAt(1, 1000)).toBe(1000 + JOBSERVER_POLL_MS);
    command.give();
    expect(g.readyAt(1, 1000)).toBe(1000);
  });

  test("when no instance holds a slot, tokens a killed command took with it are made again", () => {
    const { pipe, command } = served(3);
    const g = new JobserverGuard(3, pipe, false);
    expect(g.tryAcquire(1)).toBe(true);
    command.take();
    command.take(); // …and the command is killed: never given back
    g.release(1);
    expect(g.recovered).toBe(2);
    expect([1, 2, 3, 4].map(() => g.tryAcquire(1))).toEqual([true, true, true, false]);
  });

  test("before a command is given the pipe, the tokens are only counted, and move into the fifo when it is made", () => {
    const pipe = new ServedPipe(2);
    pipes.push(pipe);
    const g = new JobserverGuard(2, pipe, false);
    expect(g.tryAcquire(1)).toBe(true);
    const [read] = pipe.child("pipe").fds as [number];
    expect(readSync(read, Buffer.alloc(4), 0, 4, null)).toBe(1);
  });
});

describe("JobserverGuard using a parent's jobserver", () => {
  /** The parent's pipe as a plain list of tokens. */
  const parentPool = (tokens: number): TokenPool & { tokens: number[] } => {
    const pool = {
      tokens: Array.from({ length: tokens }, () => TOKEN),
      take: () => pool.tokens.pop(),
      put: (t: number) => void pool.tokens.push(t),
    };
    return pool;
  };

  test("the first instance runs on fanout's own implicit slot; the others on the parent's tokens", async () => {
    const pool = parentPool(1);
    const g = new JobserverGuard(2, pool, true);
    expect(g.tryAcquire(1)).toBe(true);
    expect(pool.tokens.length).toBe(1);
    expect(g.tryAcquire(1)).toBe(true);
    expect(pool.tokens.length).toBe(0);
    expect(g.tryAcquire(1)).toBe(false);
    g.release(1);
    await turn();
    expect(pool.tokens.length).toBe(1);
  });

  test("when nothing runs the implicit slot is free, whatever the parent's pipe holds; releaseAll returns every token", () => {
    const pool = parentPool(0);
    const g = new JobserverGuard(4, pool, true);
    expect(g.available()).toBe(1);
    expect(g.tryAcquire(1)).toBe(true);
    expect(g.tryAcquire(1)).toBe(false);
    pool.put(TOKEN);
    expect(g.tryAcquire(1)).toBe(true);
    g.releaseAll();
    expect(pool.tokens.length).toBe(1);
    expect(g.inUse).toBe(0);
  });
});

describe("JobserverGuard when only a stuck instance holds a slot", () => {
  test("the run counts as idle: the pipe is reset to the slots not held, the stuck one's kept", () => {
    const { pipe, command } = served(3);
    let running = 2;
    const g = new JobserverGuard(3, pipe, false, () => running === 0);
    expect(g.tryAcquire(1)).toBe(true); // stuck: never released
    expect(g.tryAcquire(1)).toBe(true);
    command.take(); // its make is killed holding this one
    running = 0; // the stuck one does not count as running
    g.release(1);
    expect(g.recovered).toBe(1);
    expect([1, 2, 3].map(() => g.tryAcquire(1))).toEqual([true, true, false]);
  });
});
