/** debug: logs a message (templated like any input) and returns it as data. */
import { defineModule, v } from "../core/mod.ts";

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
