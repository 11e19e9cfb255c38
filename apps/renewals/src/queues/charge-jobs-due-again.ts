import type { Queue } from "bullmq";
import type { Logger } from "pino";

type FinishedState = "failed" | "completed";

/**
 * Puts back to waiting the charge jobs among `jobIds` that BullMQ holds as finished (failed or
 * completed): the sweep found their subscriptions due again under the same job id.
 *
 * Charge job ids are deterministic (`renewal-<sub>-<periodEndMs>-<attempt>`) so that a sweep re-adding a
 * job still waiting, running or retrying adds none. But BullMQ also ignores an add under the id of a
 * finished job, and finished jobs are kept for days (completed 8, failed 30). The sweep computing the
 * same id again means the subscription is due with the same period and the same attempt number, so that
 * job never started its attempt (a started attempt moves the number on, a success moves the period) and
 * nothing was charged. How a job ends like that:
 * - failed for good before its attempt: it stalled twice (two workers died holding it,
 *   `maxStalledCount: 1`), or every retry failed before the attempt row existed (database down);
 * - completed as skipped: the user turned auto-renew off, or the card was deactivated, between the
 *   sweep and the run, and it was turned back on within the same period.
 * Without this that period would never be charged. The job runs again under its own id (its priority
 * kept; the processor re-checks everything under the subscription's lock), and a warning is logged.
 */
export async function requeueChargeJobsDueAgain(
  queue: Queue,
  jobIds: readonly string[],
  logger: Pick<Logger, "warn">,
): Promise<string[]> {
  if (jobIds.length === 0) return [];
  const client = await queue.getBackend().client;
  const states: FinishedState[] = ["failed", "completed"];
  // Is each id in a finished set? Issued together; the page is at most the sweep's page size.
  const scores = await Promise.all(
    states.map((state) => Promise.all(jobIds.map((id) => client.zscore(queue.toKey(state), id)))),
  );
  const requeued: string[] = [];
  for (const [s, state] of states.entries()) {
    for (const [i, id] of jobIds.entries()) {
      if (scores[s]?.[i] === null || scores[s]?.[i] === undefined) continue;
      const job = await queue.getJob(id);
      if (!job) continue;
      const previous =
        state === "failed" ? { failedReason: job.failedReason } : { returned: job.returnvalue };
      try {
        await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
      } catch {
        // Another sweep (a second worker) put it back first, or it was removed meanwhile.
        continue;
      }
      requeued.push(id);
      logger.warn(
        { jobId: id, was: state, ...previous },
        "charge job finished without starting its attempt and the subscription is due again; queued again",
      );
    }
  }
  return requeued;
}
