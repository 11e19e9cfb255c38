import { NOTIFICATION_JOB_OPTIONS } from "@obuna/contracts/jobs";
import type { DefaultJobOptions, WorkerOptions } from "bullmq";

const DAY_S = 86_400;

/**
 * Completed jobs stay 8 days so a deterministic job id (`renewal-<sub>-<periodEndMs>-<attempt>`)
 * keeps deduplicating across every sweep of a period; failed ones 30 days for inspection.
 * Transient failures (ATMOS/network down before any money moved) use attempts + exponential backoff;
 * permanent ones throw UnrecoverableError.
 */
export const renewalJobOptions: DefaultJobOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 30_000, jitter: 0.5 },
  removeOnComplete: { age: 8 * DAY_S, count: 200_000 },
  removeOnFail: { age: 30 * DAY_S, count: 50_000 },
};

/**
 * Charge jobs are prioritized below everything else on the queue: BullMQ takes jobs without a
 * priority first, so the sweep, janitor (unknown outcomes), maintenance (expiries, owed
 * notifications) and a user's retry-now never wait behind a backlog of thousands of charges.
 */
export const CHARGE_JOB_PRIORITY = 10;

/** Scheduler-made jobs (sweep, janitor, maintenance): the next tick repeats them anyway. */
export const schedulerJobOptions: DefaultJobOptions = {
  attempts: 1,
  removeOnComplete: { age: 3_600, count: 100 },
  removeOnFail: { age: 7 * DAY_S, count: 1_000 },
};

export const notificationJobOptions: DefaultJobOptions = NOTIFICATION_JOB_OPTIONS;

export function renewalWorkerOptions(config: {
  concurrency: number;
  ratePerSecond: number;
}): Omit<WorkerOptions, "connection"> {
  return {
    concurrency: config.concurrency,
    // Ceiling of charges started per second towards ATMOS (each is create + pre-apply + apply).
    limiter: { max: config.ratePerSecond, duration: 1_000 },
    // A charge may wait up to 3 × ATMOS_TIMEOUT_MS; keep the lock renewed well inside that.
    lockDuration: 60_000,
    maxStalledCount: 1,
    autorun: false,
  };
}
