/** A periodic step of a distributed run (lease renewal, polling), on the runtime's clock. */
import { type Clock, realClock } from "../runtime/clock.ts";

/** Runs `step` every `ms`, the next time only once this one has settled (a slow Redis never piles them up). */
export function every(ms: number, step: () => Promise<void>, clock: Clock = realClock): { stop(): void } {
  let timer: unknown;
  let stopped = false;
  const tick = () => {
    step().catch(() => {}).finally(() => {
      if (!stopped) timer = clock.setTimer(tick, ms);
    });
  };
  timer = clock.setTimer(tick, ms);
  return {
    stop() {
      stopped = true;
      clock.clearTimer(timer);
    },
  };
}
