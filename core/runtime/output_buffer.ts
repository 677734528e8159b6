/** Collects at most `limit` bytes of a child's output, counting the rest. */
export class OutputBuffer {
  private chunks: Uint8Array[] = [];
  private kept = 0;
  truncated = false;
  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): void {
    const room = this.limit - this.kept;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
    if (part !== chunk) this.truncated = true;
    this.chunks.push(part);
    this.kept += part.byteLength;
  }

  text(): string {
    if (this.chunks.length === 0) return "";
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** Reads a web stream to its end into `into`, telling `observe` each chunk as well when given. */
export async function drain(stream: ReadableStream<Uint8Array>, into: OutputBuffer, observe?: (chunk: Uint8Array) => void): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    into.push(value);
    observe?.(value);
  }
}
