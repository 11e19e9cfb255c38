import type { DefaultJobOptions } from "bullmq";
import type { RenewalsEnv } from "../env";

const DAY_S = 86_400;

/**
 * `event-delivery` jobs: EVENTS_DELIVERY_ATTEMPTS attempts, the n-th retry after
 * EVENTS_RETRY_BASE_MS × 2^(n−1) (±20 % jitter, so endpoints coming back are not hit all at once).
 * Completed jobs stay a day (a relay re-adding the id adds nothing), failed ones 30 days.
 */
export function eventJobOptions(config: RenewalsEnv): DefaultJobOptions {
  return {
    attempts: config.EVENTS_DELIVERY_ATTEMPTS,
    backoff: { type: "exponential", delay: config.EVENTS_RETRY_BASE_MS, jitter: 0.2 },
    removeOnComplete: { age: DAY_S, count: 100_000 },
    removeOnFail: { age: 30 * DAY_S, count: 50_000 },
  };
}
