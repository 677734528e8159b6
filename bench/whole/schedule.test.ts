/** The run order interleaves every tool of a row, round after round. */
import { describe, expect, test } from "bun:test";
import { schedule, type Slot } from "./schedule.ts";

const count = (slots: Slot[], row: string, contender: number) => slots.filter((s) => s.row === row && s.contender === contender).length;

describe("schedule", () => {
  test("each contender runs rounds × perRound times; a row with fewer rounds stops early", () => {
    const slots = schedule([
      { name: "cheap", contenders: 3, rounds: 4, perRound: 5 },
      { name: "heavy", contenders: 2, rounds: 2, perRound: 1 },
    ]);
    for (let c = 0; c < 3; c++) expect(count(slots, "cheap", c)).toBe(20);
    for (let c = 0; c < 2; c++) expect(count(slots, "heavy", c)).toBe(2);
    expect(slots.filter((s) => s.row === "heavy").map((s) => s.round)).toEqual([0, 0, 1, 1]);
    // The last turn of round 3 is turn 19: it starts at contender 19 % 3 = 1 and ends at 0.
    expect(slots.slice(-3)).toEqual([1, 2, 0].map((contender) => ({ round: 3, row: "cheap", contender })));
  });

  test("round-robin: rows alternate within each round, and every run of a row's contenders is a full turn", () => {
    const slots = schedule([
      { name: "a", contenders: 3, rounds: 3, perRound: 2 },
      { name: "b", contenders: 2, rounds: 3, perRound: 1 },
    ]);
    expect(slots.map((s) => `${s.round}${s.row}`).join(" ")).toBe(
      ["0a", "0a", "0a", "0a", "0a", "0a", "0b", "0b", "1a", "1a", "1a", "1a", "1a", "1a", "1b", "1b", "2a", "2a", "2a", "2a", "2a", "2a", "2b", "2b"].join(" "),
    );
    const a = slots.filter((s) => s.row === "a").map((s) => s.contender);
    for (let i = 0; i < a.length; i += 3) expect(a.slice(i, i + 3).sort()).toEqual([0, 1, 2]);
  });

  test("the first contender of a turn moves by one each turn, so no tool always follows the same one", () => {
    const firsts = schedule([{ name: "a", contenders: 3, rounds: 2, perRound: 3 }])
      .filter((_, i) => i % 3 === 0)
      .map((s) => s.contender);
    expect(firsts).toEqual([0, 1, 2, 0, 1, 2]);
  });

  test("refuses a row with no contenders or no turns", () => {
    expect(() => schedule([{ name: "x", contenders: 0, rounds: 1, perRound: 1 }])).toThrow(/bad row/);
    expect(() => schedule([{ name: "x", contenders: 1, rounds: 1, perRound: 0 }])).toThrow(/bad row/);
    expect(schedule([])).toEqual([]);
  });
});
