/**
 * Reads a response body as text, at most `maxBytes` of it: the stream is
 * read chunk by chunk and cancelled at the cut, so a 50 MB answer costs one
 * chunk of memory beyond the cut, never the whole body.
 */

export interface CutBody {
  /** UTF-8 text of at most maxBytes bytes; a character split by the cut is left out whole. */
  text: string;
  /** Bytes received, the chunk that crossed the cut included. */
  bytes: number;
  truncated: boolean;
}

export async function readBodyCut(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<CutBody> {
  if (!body) return { text: "", bytes: 0, truncated: false };
  const reader = body.getReader();
  // stream: true holds back an incomplete trailing character instead of writing U+FFFD for it.
  const decoder = new TextDecoder();
  let text = "";
  let kept = 0;
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: text + decoder.decode(), bytes, truncated: false };
      bytes += value.byteLength;
      const room = maxBytes - kept;
      if (value.byteLength > room) {
        text += decoder.decode(value.subarray(0, room), { stream: true });
        return { text, bytes, truncated: true };
      }
      text += decoder.decode(value, { stream: true });
      kept += value.byteLength;
    }
  } finally {
    // Stops the transfer when cut short; harmless once the stream is done.
    reader.cancel().catch(() => {});
  }
}
