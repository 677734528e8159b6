/** sleep: waits for a duration; stops at once when the instance is aborted. */
import { defineModule } from "../core/sdk.ts";
import * as v from "../core/deps_valibot.ts";
import { delay } from "../core/runtime/clock.ts";
import { parseDuration } from "../core/units.ts";

const SleepInput = v.strictObject({
  duration: v.pipe(
    v.string("expected duration like 50ms or 2s"),
    v.check((s) => parseDuration(s) !== undefined, "expected duration like 50ms or 2s"),
  ),
});

export default defineModule<v.InferOutput<typeof SleepInput>>({
  description: "Wait for a duration",
  parallelizationHint: "fully_parallel",
  input: SleepInput,
  async run(input, ctx) {
    await delay(parseDuration(input.duration)!, ctx.signal);
    return { changed: false };
  },
});
