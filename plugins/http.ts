/**
 * http: one request through fetch, to an http: or https: URL. Fails when the
 * status is not expected (default: any 2xx). The response body is returned
 * as text, cut at 64 KiB (bytes, read as a stream: a huge answer is never
 * held whole). Header values are not echoed back, and every error names the
 * URL without its credentials or query string: all of them often carry tokens.
 */
import { defineModule, TaskFailure } from "../core/sdk.ts";
import * as v from "../core/deps_valibot.ts";
import { type CutBody, readBodyCut } from "./lib/read_body.ts";
import { fetchErrorText, redactUrl } from "./lib/redact_url.ts";

const MAX_BODY_BYTES = 64 * 1024;
const SCHEMES = ["http:", "https:"];

const HttpInput = v.strictObject({
  url: v.pipe(
    v.string("expected url as a string"),
    v.url("expected an absolute http(s) URL"),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const { protocol } = new URL(dataset.value);
      // Only the scheme is shown: the rest of the URL may hold credentials or tokens.
      if (!SCHEMES.includes(protocol)) addIssue({ message: "expected an http: or https: URL", received: `${protocol}//…` });
    }),
  ),
  method: v.optional(v.pipe(v.string(), v.toUpperCase(), v.picklist(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], "expected an HTTP method")), "GET"),
  headers: v.optional(v.record(v.string(), v.string("expected header values as strings"))),
  body: v.optional(v.union([v.string(), v.record(v.string(), v.unknown()), v.array(v.unknown())], "expected body as text or a mapping (sent as JSON)")),
  expect_status: v.optional(v.union([v.number(), v.array(v.number())], "expected expect_status as a status code or a list of them")),
});

export default defineModule<v.InferOutput<typeof HttpInput>>({
  description: "Send an HTTP request",
  parallelizationHint: "fully_parallel",
  input: HttpInput,
  async run(input, ctx) {
    const url = new URL(input.url);
    const where = `${input.method} ${redactUrl(url)}`;
    const headers = new Headers(input.headers);
    let body: string | undefined;
    if (typeof input.body === "string") body = input.body;
    else if (input.body !== undefined) {
      body = JSON.stringify(input.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    let status: number;
    let cut: CutBody;
    try {
      const res = await fetch(url, { method: input.method, headers, body, signal: ctx.signal });
      status = res.status;
      cut = await readBodyCut(res.body, MAX_BODY_BYTES);
    } catch (error) {
      // No cause attached: its text (and the runtime's own properties) would carry the URL whole.
      throw new TaskFailure(`${where}: ${fetchErrorText(error, url)}`);
    }
    const expected = input.expect_status === undefined ? undefined : [input.expect_status].flat();
    const ok = expected ? expected.includes(status) : status >= 200 && status < 300;
    const data = { status, body: cut.text, truncated: cut.truncated };
    if (!ok) return { failed: true, error: `${where}: status ${status}${expected ? ` (expected ${expected.join(" or ")})` : ""}`, data, bytes: cut.bytes };
    return { changed: input.method !== "GET" && input.method !== "HEAD", data, bytes: cut.bytes };
  },
});
