/** The http module against real HTTP servers on loopback (and a port nobody listens on, a name that does not resolve). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { join, resolve } from "node:path";
import { loadPlan } from "../core/plan/load.ts";
import { runPlanText, runProcess, tempDir } from "../core/test_helpers.ts";

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
    expect(end.data).toEqual({ status: 200, body: "you sent GET ", truncated: false });
    expect(end.bytes).toBe("you sent GET ".length);
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

const ROOT = resolve(import.meta.dir, "..");
const PASSWORD = "pa55w0rd-x";
const TOKEN = "s3cret-token-value";
/** A URL carrying both kinds of secret. */
const secretUrl = (hostPort: string, scheme = "http") => `${scheme}://alice:${PASSWORD}@${hostPort}/a/b?token=${TOKEN}&x=1`;

/** A loopback port that was just free: nothing listens on it. */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function planFor(urls: Record<string, string>, more = ""): string {
  const tasks = Object.entries(urls).map(([name, url]) => `  - { name: ${name}, module: http, needs: [], ${more}with: { url: "${url}" } }`);
  return `version: 1\ntasks:\n${tasks.join("\n")}\n`;
}

describe("http module › URLs", () => {
  test("only http: and https: are accepted, as a plan error naming the scheme and nothing more of the URL", async () => {
    for (const [url, scheme] of [[`ftp://alice:${PASSWORD}@example.com/f?token=${TOKEN}`, "ftp:"], ["file:///etc/passwd", "file:"], [`data:text/plain,${TOKEN}`, "data:"]]) {
      const dir = tempDir();
      writeFileSync(join(dir, "plan.yml"), planFor({ get: url! }));
      const error = await loadPlan(join(dir, "plan.yml")).then(() => undefined, (e: Error) => e);
      expect(error?.message).toContain(`tasks[0].with.url: expected an http: or https: URL, got ${scheme}//… (module http)`);
      expect(error?.message).not.toContain(PASSWORD);
      expect(error?.message).not.toContain(TOKEN);
    }
  });
});

describe("http module › secrets stay out of every error", () => {
  let plain: Server;
  let slow: Server;
  beforeAll(async () => {
    plain = createServer((req, res) => {
      res.writeHead(503);
      res.end("down");
    });
    slow = createServer(() => {}); // never answers
    for (const s of [plain, slow]) await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  });
  afterAll(() => {
    for (const s of [plain, slow]) {
      s.closeAllConnections();
      s.close();
    }
  });

  const port = (s: Server) => (s.address() as AddressInfo).port;

  async function urls(): Promise<Record<string, string>> {
    return {
      refused: secretUrl(`127.0.0.1:${await closedPort()}`),
      dns: secretUrl("no-such-host.invalid"),
      // TLS spoken to a server that answers in plain HTTP: the handshake fails.
      tls: secretUrl(`127.0.0.1:${port(plain)}`, "https"),
      status: secretUrl(`127.0.0.1:${port(plain)}`),
    };
  }

  function expectRedacted(text: string) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain("alice");
  }

  test("connection refused, DNS failure, TLS failure and a bad status: each fails naming the redacted URL", async () => {
    const u = await urls();
    const log = await runPlanText(planFor(u));
    const byName = Object.fromEntries(log.ends.map((e) => [e.task, e]));
    for (const name of Object.keys(u)) {
      const redacted = u[name]!.replace(`alice:${PASSWORD}@`, "").replace(/\?.*/, "?…");
      expect([name, byName[name]!.status]).toEqual([name, "failed"]);
      expect(byName[name]!.error).toStartWith(`GET ${redacted}: `);
    }
    expect(byName.status!.error).toEndWith(": status 503");
    expectRedacted(JSON.stringify(log.events));
  });

  test("a timeout fails the instance without the URL's secrets", async () => {
    const log = await runPlanText(planFor({ hang: secretUrl(`127.0.0.1:${port(slow)}`) }, "timeout: 100ms, "));
    expect(log.ends[0]!.status).toBe("timed_out");
    expectRedacted(JSON.stringify(log.events));
  });

  test("under Deno, whose errors quote the whole URL, the NDJSON holds no secret either", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "plan.yml"), planFor(await urls()));
    const r = await runProcess([join(ROOT, "node_modules/.bin/deno"), "run", "-A", join(ROOT, "cli.ts"), "run", join(dir, "plan.yml"), "--json", "-q"]);
    expect(r.code).toBe(1);
    const ends = r.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.type === "task_end");
    // They run side by side: compared in task order, not in the order they ended.
    expect(ends.map((e) => [e.task, e.status, String(e.error).startsWith("GET ")]).sort()).toEqual(
      ["dns", "refused", "status", "tls"].map((name) => [name, "failed", true]),
    );
    expectRedacted(r.stdout + r.stderr);
  }, 60_000);
});

describe("http module › the body is cut at 64 KiB of bytes, read as a stream", () => {
  const TOTAL = 50 * 1024 * 1024;
  // 65,537 bytes: "ab" and 21,845 three-byte characters, so the 65,536-byte cut splits the last one.
  const CHUNK = Buffer.from("ab" + "€".repeat(21845));
  let big: Server;
  let sentAtClose = -1;
  beforeAll(async () => {
    big = createServer((_req, res) => {
      let sent = 0;
      res.writeHead(200, { "content-length": String(TOTAL), "content-type": "text/plain; charset=utf-8" });
      res.on("error", () => {});
      res.on("close", () => (sentAtClose = sent));
      const pump = () => {
        while (sent < TOTAL && !res.destroyed) {
          const part = CHUNK.subarray(0, Math.min(CHUNK.length, TOTAL - sent));
          sent += part.length;
          if (!res.write(part)) return void res.once("drain", pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });
    await new Promise<void>((r) => big.listen(0, "127.0.0.1", r));
  });
  afterAll(() => {
    big.closeAllConnections();
    big.close();
  });

  test("a 50 MB answer gives 65,536 bytes at most, whole characters only, and the transfer is stopped", async () => {
    const log = await runPlanText(planFor({ big: `http://127.0.0.1:${(big.address() as AddressInfo).port}/` }));
    const end = log.ends[0]!;
    expect(end.status).toBe("ok");
    const body = String(end.data.body);
    expect(body).toBe("ab" + "€".repeat(21844));
    expect(Buffer.byteLength(body)).toBe(65534);
    expect(end.data.truncated).toBe(true);
    expect(end.bytes).toBeGreaterThanOrEqual(65536);
    expect(end.bytes).toBeLessThan(TOTAL);
    // The server saw the connection closed long before it had sent everything.
    for (let i = 0; i < 100 && sentAtClose < 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sentAtClose).toBeGreaterThan(0);
    expect(sentAtClose).toBeLessThan(TOTAL);
  }, 30_000);
});
