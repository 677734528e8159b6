/** Plugin paths are local files: URLs and package specifiers are refused at load, at their position. */
import { describe, expect, test } from "bun:test";
import { planErrors } from "../test_helpers.ts";
import { refusedSpecifier } from "./plugin_specifier.ts";

const plan = (path: string) => `version: 1
plugins:
  remote: "${path}"
tasks:
  - { name: a, module: remote }
`;

describe("refusedSpecifier", () => {
  test.each(["https://example.com/p.ts", "http://example.com/p.ts", "npm:left-pad", "jsr:@std/path", "data:text/javascript,export default 1", "file:///tmp/p.ts", "node:fs", "HTTPS://EXAMPLE.COM/p.ts"])(
    "%s is refused at its position, and never imported",
    async (path) => {
      const errors = await planErrors(plan(path));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toStartWith(`plan.yml:3:11: plugins.remote: "${path}" is `);
      expect(errors[0]).toContain("plugins are local files");
    },
  );

  test("a file: URL is answered with its path", () => {
    expect(refusedSpecifier("file:///srv/plugins/apt.ts")).toContain("(/srv/plugins/apt.ts)");
  });

  test("local paths pass, a colon inside one included", () => {
    for (const path of ["./p.ts", "p.ts", "../x/p.ts", "/abs/p.ts", "./npm:odd.ts", "dir/https:x.ts"]) expect(refusedSpecifier(path)).toBeUndefined();
  });

  test("an unused plugin entry with a URL is refused too", async () => {
    const errors = await planErrors(`version: 1
plugins: { far: "https://example.com/p.ts" }
tasks:
  - { name: a, module: sleep, with: { duration: 1ms } }
`);
    expect(errors).toEqual([expect.stringMatching(/^plan\.yml:2:17: plugins\.far: "https:\/\/example\.com\/p\.ts" is a remote https: URL/)]);
  });
});
