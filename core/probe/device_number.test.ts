import { describe, expect, test } from "bun:test";
import { formatDev, makeDev, realStatDev, splitDev } from "./device_number.ts";

describe("splitDev", () => {
  test("decodes small numbers (vda 254:0 is 0xfe00)", () => {
    expect(splitDev(0xfe00n)).toEqual({ major: 254, minor: 0 });
    expect(splitDev(0x0803n)).toEqual({ major: 8, minor: 3 });
  });

  test("round-trips large majors and minors through makeDev", () => {
    for (const [major, minor] of [[259, 0], [4095, 255], [4096, 256], [70000, 1048575], [0, 42]] as const) {
      expect(splitDev(makeDev(major, minor))).toEqual({ major, minor });
    }
  });

  test("agrees with the real stat of the working directory", () => {
    const dev = realStatDev(".", "dev");
    const d = splitDev(dev);
    expect(makeDev(d.major, d.minor)).toBe(dev);
    expect(formatDev(d)).toMatch(/^\d+:\d+$/);
  });
});
