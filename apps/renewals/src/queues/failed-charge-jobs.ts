import type { Queue } from "bullmq";
import type { Logger } from "pino";

/**
 * Puts back to waiting the charge jobs among `jobIds` that BullMQ holds as failed for good.
 *
 * Charge job ids are deterministic (`renewal-<sub>-<periodEndMs>-<attempt>`) so that a sweep re-adding a
 * job still waiting, running or retrying adds none. But BullMQ also ignores an add under the id of a
 * failed job, and failed jobs are kept 30 days. A charge job can fail for good before it starts its
 * attempt: it stalled twice (two workers died holding it, `maxStalledCount: 1`), or every retry failed
 * before the attempt row existed (database down). The sweep then finds the subscription still due with
 * the same attempt number, which proves that no attempt of that number was started and nothing was
 * charged; without this the period would never be charged. The job is retried under its own id, so its
 * priority stays and its failure stays in the log line written here and when it failed.
 */
export async function retryFailedChargeJobs(
  queue: Queue,
  jobIds: readonly string[],
  logger: Pick<Logger, "warn">,
): Promise<string[]> {
  if (jobIds.length === 0) return [];
  const client = await queue.getBackend().client;
  const failedKey = queue.toKey("failed");
  // Is each id in the failed set? Issued together; the page is at most the sweep's page size.
  const scores = await Promise.all(jobIds.map((id) => client.zscore(failedKey, id)));
  const failedIds = jobIds.filter((_, i) => scores[i] !== null);
  const retried: string[] = [];
  for (const id of failedIds) {
    const job = await queue.getJob(id);
    if (!job) continue;
    try {
      await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
    } catch {
      // Another sweep (a second worker) retried it first, or it was removed meanwhile.
      continue;
    }
    retried.push(id);
    logger.warn(
      { jobId: id, failedReason: job.failedReason, attemptsMade: job.attemptsMade },
      "charge job had failed before starting its attempt; queued again",
    );
  }
  return retried;
}
