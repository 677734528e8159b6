/** copy and checksum against a real sshd: there and back byte for byte, awkward names, missing files, aborts, the master connection. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskContext } from "../core/mod.ts";
import { sshdTarget } from "../core/ssh/test_target.ts";
import type { SshTarget } from "../core/ssh/target.ts";
import { freePort, startSshd, type TestSshd } from "../core/test_sshd.ts";
import checksum from "./checksum.ts";
import copy from "./copy.ts";
import { bareContext, EDGE_SIZES, removeScratchDirs, scratchDir, toolDigest, writeRandomFiles } from "./lib/test_files.ts";

let sshd: TestSshd;
// startSshd waits for a real login: slow on a loaded machine.
beforeAll(async () => {
  sshd = await startSshd();
}, 60_000);
afterAll(() => {
  sshd?.stop();
  removeScratchDirs();
});

const on = (target: SshTarget, dir: string, signal?: AbortSignal): TaskContext => ({ ...bareContext(dir, signal), host: target.name, ssh: target });

const input = (src: string, dest_dir: string, direction: "push" | "fetch", overwrite = true) => ({
  src,
  dest_dir,
  direction,
  overwrite,
  fsync: false,
  algorithm: "sha256" as const,
});

/** Names a shell or sftp could misread. */
const AWKWARD = `a b 'it's' "hi" st*r?[x] back\\slash $HOME;rm #hash é ü.bin`;

/** Starts `run` and aborts it once `dir` holds a non-empty .partial file: truly mid-transfer. */
async function abortMidTransfer(dir: string, run: (signal: AbortSignal) => Promise<unknown>): Promise<unknown> {
  const controller = new AbortController();
  let settled = false;
  const running = run(controller.signal);
  running.finally(() => (settled = true)).catch(() => {});
  while (!settled) {
    const temp = readdirSync(dir).find((name) => name.endsWith(".partial"));
    if (temp && statSync(join(dir, temp), { throwIfNoEntry: false })?.size) {
      controller.abort(new Error("cancelled by test"));
      break;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return await running;
}

/** sha256sum's digest, computed here: sha256sum escapes the names with a backslash in its output. */
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function sparseFile(path: string, size: number): string {
  const fd = openSync(path, "w");
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
}

describe("copy and checksum on an ssh host", () => {
  test("push then fetch returns every edge size and awkward name byte for byte; modes kept; digests match sha256sum on both sides", async () => {
    const dir = scratchDir();
    // Each ssh session is costly on a loaded machine: few files, all at once.
    const sizes = { "empty.csv": 0, "chunk_plus_one.csv": EDGE_SIZES["chunk_plus_one.csv"]!, "several_mib.csv": EDGE_SIZES["several_mib.csv"]!, [AWKWARD]: 1000 };
    const paths = writeRandomFiles(join(dir, "src"), sizes);
    writeFileSync(join(dir, "src", "mode.bin"), "x");
    spawnSync("chmod", ["0751", join(dir, "src", "mode.bin")]);
    paths["mode.bin"] = join(dir, "src", "mode.bin");
    const target = sshdTarget(sshd);
    const remoteDir = join(dir, "remote side/with 'quotes'");
    await Promise.all(Object.entries(paths).map(async ([name, src]) => {
      const pushed = await copy.run(input(src, remoteDir, "push"), on(target, dir));
      const there = join(remoteDir, name);
      expect(readFileSync(there).equals(readFileSync(src))).toBe(true);
      expect(pushed).toEqual({ changed: true, bytes: statSync(src).size, data: { path: there, src, bytes: statSync(src).size, digest: sha256(src), algorithm: "sha256" } });
      expect(statSync(there).mode & 0o777).toBe(statSync(src).mode & 0o777);

      const fetched = await copy.run(input(there, join(dir, "back"), "fetch"), on(target, dir));
      const back = join(dir, "back", name);
      expect(readFileSync(back).equals(readFileSync(src))).toBe(true);
      expect(fetched && fetched.data).toEqual({ path: back, src: there, bytes: statSync(src).size, digest: sha256(src), algorithm: "sha256" });
      expect(statSync(back).mode & 0o777).toBe(statSync(src).mode & 0o777);

      const summed = await checksum.run({ path: there, algorithm: "sha256" }, on(target, dir));
      expect(summed && summed.data).toEqual({ path: there, bytes: statSync(src).size, digest: sha256(src), algorithm: "sha256" });
    }));
    expect(readdirSync(remoteDir).sort()).toEqual(Object.keys(paths).sort());
    expect(readdirSync(join(dir, "back")).sort()).toEqual(Object.keys(paths).sort());
  }, 300_000);

  test("checksum runs the host's sha512sum, b2sum, sha1sum and md5sum", async () => {
    const dir = scratchDir();
    const { f } = writeRandomFiles(dir, { f: 300_001 });
    const tools = { sha512: "sha512sum", blake2b512: "b2sum", sha1: "sha1sum", md5: "md5sum" } as const;
    await Promise.all(Object.entries(tools).map(async ([algorithm, tool]) => {
      const r = await checksum.run({ path: f!, algorithm: algorithm as keyof typeof tools }, on(sshdTarget(sshd), dir));
      expect([algorithm, r && r.data?.digest, r && r.bytes]).toEqual([algorithm, toolDigest(tool, f!), 300_001]);
    }));
  }, 120_000);

  test("a missing remote file or a directory is a clear failure naming host and path; fetch creates nothing locally", async () => {
    const dir = scratchDir();
    const target = sshdTarget(sshd);
    const missing = join(dir, "no such.bin");
    await expect(copy.run(input(missing, join(dir, "out"), "fetch"), on(target, dir))).rejects.toThrow(`web1:${missing}: no such file`);
    await expect(checksum.run({ path: missing, algorithm: "sha256" }, on(target, dir))).rejects.toThrow(`web1:${missing}: no such file`);
    await expect(checksum.run({ path: dir, algorithm: "sha256" }, on(target, dir))).rejects.toThrow(`web1:${dir}: not a regular file (a directory)`);
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);

  test("overwrite: false leaves an existing destination and reports it skipped, both ways", async () => {
    const dir = scratchDir();
    const { f } = writeRandomFiles(join(dir, "src"), { f: 5000 });
    const target = sshdTarget(sshd);
    mkdirSync(join(dir, "there"));
    writeFileSync(join(dir, "there", "f"), "old there");
    const kept = await copy.run(input(f!, join(dir, "there"), "push", false), on(target, dir));
    expect(kept && [kept.changed, kept.data?.skipped]).toEqual([false, "exists"]);
    expect(readFileSync(join(dir, "there", "f"), "utf8")).toBe("old there");
    mkdirSync(join(dir, "here"));
    writeFileSync(join(dir, "here", "f"), "old here");
    const keptToo = await copy.run(input(join(dir, "there", "f"), join(dir, "here"), "fetch", false), on(target, dir));
    expect(keptToo && [keptToo.changed, keptToo.data?.skipped]).toEqual([false, "exists"]);
    expect(readFileSync(join(dir, "here", "f"), "utf8")).toBe("old here");
    expect([readdirSync(join(dir, "there")), readdirSync(join(dir, "here"))]).toEqual([["f"], ["f"]]);
  }, 120_000);

  test("an abort mid-upload or mid-download stops the transfer and leaves no partial file on either side", async () => {
    const dir = scratchDir();
    const big = sparseFile(join(dir, "big.bin"), 1024 ** 3);
    const target = sshdTarget(sshd);
    const there = join(dir, "there");
    mkdirSync(there);
    await expect(abortMidTransfer(there, (signal) => Promise.resolve(copy.run(input(big, there, "push"), on(target, dir, signal))))).rejects.toThrow("cancelled by test");
    expect(readdirSync(there)).toEqual([]);
    // Fetch the source back through sftp: the local side now receives.
    const here = join(dir, "here");
    mkdirSync(here);
    await expect(abortMidTransfer(here, (signal) => Promise.resolve(copy.run(input(big, here, "fetch"), on(target, dir, signal))))).rejects.toThrow("cancelled by test");
    expect(readdirSync(here)).toEqual([]);
    // No sftp of ours is left running.
    expect(spawnSync("pgrep", ["-f", `sftp .*-P ${sshd.port}`]).status).toBe(1);
  }, 120_000);

  test("a closed port fails with ssh's own error text", async () => {
    const dir = scratchDir();
    const target = sshdTarget(sshd, "down", { port: await freePort() });
    await expect(checksum.run({ path: "/etc/hostname", algorithm: "sha256" }, on(target, dir))).rejects.toThrow(/ssh .*\(down\): .*Connection refused/);
  }, 120_000);

  test("with a ControlPath, transfers go through the master connection: they work with no usable key of their own", async () => {
    const dir = scratchDir();
    const control = join(dir, "master.sock");
    const master = spawnSync("ssh", [...sshd.clientOptions, "-o", "ControlMaster=yes", "-o", `ControlPath=${control}`, "-o", "ControlPersist=60", "-f", "-N", `${sshd.user}@127.0.0.1`]);
    expect(master.status).toBe(0);
    try {
      const { f } = writeRandomFiles(join(dir, "src"), { f: 100_000 });
      const keyless = { options: [`UserKnownHostsFile=${sshd.knownHostsPath}`, "IdentityFile=/dev/null", "IdentitiesOnly=yes"] };
      const withoutMaster = sshdTarget(sshd, "web1", keyless);
      await expect(checksum.run({ path: f!, algorithm: "sha256" }, on(withoutMaster, dir))).rejects.toThrow("Permission denied");
      const target = sshdTarget(sshd, "web1", { ...keyless, controlPath: control });
      await copy.run(input(f!, join(dir, "there"), "push"), on(target, dir));
      await copy.run(input(join(dir, "there", "f"), join(dir, "back"), "fetch"), on(target, dir));
      expect(readFileSync(join(dir, "back", "f")).equals(readFileSync(f!))).toBe(true);
    } finally {
      spawnSync("ssh", ["-o", `ControlPath=${control}`, "-O", "exit", "x"]);
    }
  }, 200_000);
});
