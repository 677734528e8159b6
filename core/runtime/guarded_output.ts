/**
 * One of fanout's own output streams (stdout, stderr), written so that a
 * fault of the stream cannot take the program down. Bun and Deno report a
 * failed write as an 'error' event or a write callback error; Deno also
 * throws from write() (a full disk). All three end up in fail() here.
 *
 * A reader that went away (EPIPE: `| head`) closes the stream quietly. Any
 * other error (ENOSPC, EIO) also stops the stream, and is handed to
 * `onFailure` when the stream is one whose loss the caller must hear about.
 */

/** What a guarded output needs of its stream. */
export interface Stream {
  write(text: string, callback?: (error?: Error | null) => void): boolean;
  on(event: "error", listener: (error: Error) => void): unknown;
}

/**
 * The runtime's own stream (process.stdout), which a plugin may write to:
 * write() returns false while it holds data the OS has not taken, and
 * 'drain' says when it has.
 */
export interface RuntimeStream {
  // deno-lint-ignore no-explicit-any
  write(...args: any[]): boolean;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "drain", listener: () => void): unknown;
  once(event: "error" | "drain" | "close", listener: () => void): unknown;
}

export function isClosedPipe(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED" || /EPIPE|broken pipe/i.test(String(error));
}

/** A chunk a plugin writes (text or bytes), with `redact` applied; bytes come back as text only if that changed them. */
function redactChunk(chunk: unknown, redact: (text: string) => string): unknown {
  if (typeof chunk === "string") return redact(chunk);
  if (!(chunk instanceof Uint8Array)) return chunk;
  const text = new TextDecoder().decode(chunk);
  const masked = redact(text);
  return masked === text ? chunk : masked;
}

export class GuardedOutput {
  private stopped = false;
  private error: Error | undefined;
  private listening = false;
  /** Runtime streams a plugin may write to, each with whether it holds unwritten data. */
  private readonly also = new Map<RuntimeStream, () => boolean>();
  /** Writes handed to the stream whose callback has not come yet. */
  private readonly pending = new Set<() => void>();
  private idle: (() => void)[] = [];

  /**
   * @param open gives the stream, the same one every time; called on first
   *   use.
   * @param failLoudly false: every error just silences the stream (stderr:
   *   there is nowhere left to report it). true: errors other than a closed
   *   pipe are kept in `failure` and passed to `onFailure`.
   */
  constructor(private readonly open: () => Stream, private readonly failLoudly: boolean) {}

  /** Called once, with the first write error that is not a closed pipe. */
  onFailure: ((error: Error) => void) | undefined;

  /**
   * Applied to every text written from now on, fanout's own and a plugin's
   * (through a stream passed to guardAlso): masks secrets (core/secrets/).
   */
  redact: ((text: string) => string) | undefined;

  /** The write error that stopped the stream, unless it was a closed pipe. */
  get failure(): Error | undefined {
    return this.error;
  }

  /** Catches the stream's error events; idempotent. */
  guard(): void {
    if (this.listening) return;
    this.listening = true;
    this.open().on("error", (error) => this.fail(error));
  }

  /**
   * Also catches the error events of `other`, a second stream on the same
   * descriptor (the runtime's own, written by a plugin): they stop this
   * output as its own would; and drained() waits for what it holds. Once
   * per stream object.
   */
  guardAlso(other: RuntimeStream): void {
    if (this.also.has(other)) return;
    // Whether it holds writes the OS has not taken: a write said so (false) and no 'drain' came since.
    let holding = false;
    const write = other.write;
    other.write = (...args) => {
      if (this.redact) args[0] = redactChunk(args[0], this.redact);
      const ok = write.apply(other, args);
      if (!ok) holding = true;
      return ok;
    };
    other.on("drain", () => (holding = false));
    other.on("error", (error) => this.fail(error));
    this.also.set(other, () => holding);
  }

  /**
   * Writes `text`, or drops it once the stream has stopped. `done` is called
   * when the text has been handed to the OS or dropped, so a caller can wait
   * for its output before the program exits; it is always called.
   */
  write(text: string, done?: () => void): void {
    if (this.stopped) return done?.();
    this.guard();
    if (this.redact) text = this.redact(text);
    let called = false;
    const finish = () => {
      if (called) return;
      called = true;
      this.pending.delete(finish);
      done?.();
      if (this.pending.size === 0) this.wakeIdle();
    };
    this.pending.add(finish);
    try {
      this.open().write(text, (error) => {
        if (error) this.fail(error);
        finish();
      });
    } catch (error) {
      this.fail(error);
      finish();
    }
  }

  /**
   * Resolves when every write so far has reached the OS, or the stream has
   * stopped; and so have the writes a plugin made to a stream passed to
   * guardAlso.
   */
  drained(): Promise<void> {
    const own = this.pending.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.idle.push(resolve));
    const others = [...this.also].filter(([, holding]) => holding()).map(([stream]) =>
      new Promise<void>((resolve) => {
        stream.once("drain", resolve);
        stream.once("error", resolve);
        stream.once("close", resolve);
      })
    );
    return others.length === 0 ? own : Promise.all([own, ...others]).then(() => {});
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.failLoudly && !isClosedPipe(error)) {
      this.error = error instanceof Error ? error : new Error(String(error));
      this.onFailure?.(this.error);
    }
    // A stream that failed may never call back for the writes it still holds
    // (Deno does not): release everyone waiting on them.
    for (const finish of [...this.pending]) finish();
  }

  private wakeIdle(): void {
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }
}
