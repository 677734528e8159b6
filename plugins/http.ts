/**
 * http: one request through fetch. Fails when the status is not expected
 * (default: any 2xx). The response body is returned as text, cut at 64 KiB;
 * header values are not echoed back, since they often carry tokens.
 */
import { defineModule, v } from "../core/mod.ts";

const MAX_BODY_CHARS = 64 * 1024;

const HttpInput = v.strictObject({
  url: v.pipe(v.string("expected url as a string"), v.url("expected an absolute http(s) URL")),
  method: v.optional(v.pipe(v.string(), v.toUpperCase(), v.picklist(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], "expected an HTTP method")), "GET"),
  headers: v.optional(v.record(v.string(), v.string("expected header values as strings"))),
  body: v.optional(v.union([v.string(), v.record(v.string(), v.unknown()), v.array(v.unknown())], "expected body as text or a mapping (sent as JSON)")),
  expect_status: v.optional(v.union([v.number(), v.array(v.number())], "expected expect_status as a status code or a list of them")),
});

/** The URL without credentials or query string: both often carry secrets, and errors end up in logs. */
function redact(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}${u.search ? "?…" : ""}`;
}

export default defineModule<v.InferOutput<typeof HttpInput>>({
  description: "Send an HTTP request",
  parallelizationHint: "fully_parallel",
  input: HttpInput,
  async run(input, ctx) {
    const headers = new Headers(input.headers);
    let body: string | undefined;
    if (typeof input.body === "string") body = input.body;
    else if (input.body !== undefined) {
      body = JSON.stringify(input.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    const res = await fetch(input.url, { method: input.method, headers, body, signal: ctx.signal });
    const text = await res.text();
    const expected = input.expect_status === undefined ? undefined : [input.expect_status].flat();
    const ok = expected ? expected.includes(res.status) : res.status >= 200 && res.status < 300;
    const data = { status: res.status, body: text.length > MAX_BODY_CHARS ? text.slice(0, MAX_BODY_CHARS) : text };
    if (!ok) {
      return { failed: true, error: `${input.method} ${redact(input.url)}: status ${res.status}${expected ? ` (expected ${expected.join(" or ")})` : ""}`, data };
    }
    return { changed: input.method !== "GET" && input.method !== "HEAD", data, bytes: text.length };
  },
});
