/** debug: logs a message (templated like any input) and returns it as data. */
import { defineModule } from "../core/sdk.ts";
import * as v from "../core/deps_valibot.ts";

const DebugInput = v.strictObject({
  message: v.unknown(),
});

export default defineModule<v.InferOutput<typeof DebugInput>>({
  description: "Log a message",
  parallelizationHint: "fully_parallel",
  input: DebugInput,
  run(input, ctx) {
    const text = typeof input.message === "string" ? input.message : JSON.stringify(input.message);
    ctx.log.info(text);
    return { changed: false, data: { message: input.message } };
  },
});
