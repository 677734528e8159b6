/** The http module against a real HTTP server on loopback. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runPlanText } from "../core/test_helpers.ts";

let server: Server;
let base: string;
const seen: { method: string; url: string; body: string; type: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, body, type: req.headers["content-type"] });
      const status = Number(new URL(req.url!, "http://x").searchParams.get("status") ?? 200);
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(`you sent ${req.method} ${body}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe("http module", () => {
  test("GET succeeds on 2xx and returns status and body", async () => {
    const log = await runPlanText(`version: 1\ntasks:\n  - { name: get, module: http, with: { url: "${base}/health" } }\n`);
    const end = log.ends[0]!;
    expect(end.status).toBe("ok");
    expect(end.changed).toBe(false);
    expect(end.data).toEqual({ status: 200, body: "you sent GET " });
  });

  test("POST with a mapping body sends JSON; the method marks the result changed", async () => {
    const log = await runPlanText(`version: 1\ntasks:\n  - { name: post, module: http, with: { url: "${base}/items", method: post, body: { name: "{{ host }}" } } }\n`);
    expect(log.ends[0]!.status).toBe("ok");
    expect(log.ends[0]!.changed).toBe(true);
    expect(seen.at(-1)).toEqual({ method: "POST", url: "/items", body: '{"name":"localhost"}', type: "application/json" });
  });

  test("an unexpected status fails the instance, and the error does not leak the query string", async () => {
    const log = await runPlanText(`version: 1\ntasks:\n  - { name: bad, module: http, with: { url: "${base}/x?status=503&token=s3cret" } }\n`);
    const end = log.ends[0]!;
    expect(end.status).toBe("failed");
    expect(end.error).toBe(`GET ${base}/x?…: status 503`);
    expect(JSON.stringify(log.events)).not.toContain("s3cret");
  });

  test("expect_status accepts the listed codes", async () => {
    const log = await runPlanText(`version: 1\ntasks:\n  - { name: gone, module: http, with: { url: "${base}/x?status=404", expect_status: [404, 410] } }\n`);
    expect(log.ends[0]!.status).toBe("ok");
  });

  test("a timeout aborts the request", async () => {
    const slow = createServer(() => {}); // never answers
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
    const log = await runPlanText(`version: 1\ntasks:\n  - { name: hang, module: http, timeout: 100ms, with: { url: "${url}" } }\n`);
    slow.closeAllConnections();
    slow.close();
    expect(log.ends[0]!.status).toBe("timed_out");
  });
});
