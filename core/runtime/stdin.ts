/** Reading fanout's own stdin: `fanout run -` takes its plan from there. */
import { Buffer } from "node:buffer";
import process from "node:process";

/** All of stdin, as UTF-8 text, once it reaches end of file. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}
