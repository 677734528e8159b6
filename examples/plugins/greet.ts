/**
 * A user module: greets a host, at most two greetings a second across the
 * run (rate_limited), with its input checked by a schema.
 */
import { defineModule, v } from "fanout";

export default defineModule({
  parallelizationHint: { kind: "rate_limited", per_second: 2, burst: 1 },
  input: v.strictObject({ name: v.string() }),
  async run(input, ctx) {
    const r = await ctx.exec(["echo", `hello ${input.name} from ${ctx.host}`]);
    ctx.log.info(r.stdout.trim());
    return { changed: false, data: { said: r.stdout.trim() } };
  },
});
