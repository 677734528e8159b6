/**
 * The order in which the whole-process benchmark runs its commands: round
 * after round, every row, each of its contenders in turn, so a noisy moment
 * on the machine falls on all the tools of a row alike. Within a row the
 * starting contender moves by one each time, so no tool always runs right
 * after the same other one (a warm cache or a busy core left behind).
 */

export interface ScheduledRow {
  name: string;
  /** How many contenders the row compares. */
  contenders: number;
  /** Rounds this row takes part in (the first `rounds` of them). */
  rounds: number;
  /** Turns per round: cheap rows take several, so their medians rest on more samples. */
  perRound: number;
}

export interface Slot {
  round: number;
  row: string;
  contender: number;
}

/** Every run, in order. Each contender of a row appears rounds × perRound times. */
export function schedule(rows: ScheduledRow[]): Slot[] {
  for (const r of rows) {
    if (!(r.contenders >= 1 && r.rounds >= 0 && r.perRound >= 1)) throw new RangeError(`schedule: bad row ${JSON.stringify(r)}`);
  }
  const slots: Slot[] = [];
  const rounds = Math.max(0, ...rows.map((r) => r.rounds));
  for (let round = 0; round < rounds; round++) {
    for (const r of rows) {
      if (round >= r.rounds) continue;
      for (let turn = 0; turn < r.perRound; turn++) {
        const shift = round * r.perRound + turn;
        for (let i = 0; i < r.contenders; i++) slots.push({ round, row: r.name, contender: (i + shift) % r.contenders });
      }
    }
  }
  return slots;
}
