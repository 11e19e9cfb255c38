import { type Job, UnrecoverableError } from "bullmq";
import type { z } from "zod";
import type { RenewalContext } from "../core/deps";

/** Parses the payload with its contract schema before any side effect, then runs `process`. */
export function defineProcessor<S extends z.ZodType>(
  schema: S,
  process: (ctx: RenewalContext, data: z.infer<S>, job: Job) => Promise<unknown>,
) {
  return async (ctx: RenewalContext, job: Job) => {
    const parsed = schema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(
        `invalid ${job.name} payload: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
      );
    }
    return process(ctx, parsed.data, job);
  };
}

export type Processor = ReturnType<typeof defineProcessor>;
