/**
 * A spawn worker: a thread that starts children for the main thread.
 * Bun.spawn blocks its calling thread until the child has exec'd (about
 * 0.4 ms each on a small machine); done here, the scheduler's thread keeps
 * scheduling meanwhile. It answers each request with the child's pid at once
 * (so the main thread can kill its process group) and the result at exit.
 */
import { type SpawnRequest, spawnWithBun } from "./bun_spawn.ts";

export type WorkerMessage =
  | { id: -1; kind: "ready" }
  | { id: number; kind: "pid"; pid: number }
  | { id: number; kind: "exit"; reply: import("./bun_spawn.ts").SpawnReply }
  | { id: number; kind: "error"; message: string; code?: string };

declare const self: { onmessage: ((e: MessageEvent) => void) | null; postMessage(message: WorkerMessage): void };

self.onmessage = (e: MessageEvent) => {
  const { id, req } = e.data as { id: number; req: SpawnRequest };
  let started: ReturnType<typeof spawnWithBun>;
  try {
    started = spawnWithBun(req);
  } catch (error) {
    self.postMessage({ id, kind: "error", message: (error as Error).message, code: (error as NodeJS.ErrnoException).code });
    return;
  }
  self.postMessage({ id, kind: "pid", pid: started.pid });
  started.done.then(
    (reply) => self.postMessage({ id, kind: "exit", reply }),
    (error) => self.postMessage({ id, kind: "error", message: (error as Error).message }),
  );
};

self.postMessage({ id: -1, kind: "ready" });
