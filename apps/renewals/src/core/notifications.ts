import { NOTIFICATION_JOB_OPTIONS } from "@obuna/contracts/jobs";
import type { Database } from "@obuna/db";
import { type OwedNotification, relayNotifications } from "@obuna/db/queries";
import type { Queue } from "bullmq";
import type { Logger } from "pino";
import type { RenewalContext } from "./deps";

/** At most this many job ids in one flush (the relay's own page size). */
const FLUSH_BATCH_MAX = 500;

/**
 * The worker's side of the notification outbox: `flushNotifications` right after a commit that
 * recorded messages, `relayOwedNotifications` from the maintenance job for what Redis did not take.
 *
 * Flushes are coalesced like a group commit: the first runs at once, and the job ids asked for
 * while it runs go together in the next one (one relay transaction for many charges, instead of one
 * each: docs/benchmarks.md, renewals). A caller's promise settles when the flush carrying its ids
 * is done; nothing waits for a timer.
 */
export function outboxRelay(deps: {
  db: Database;
  notifications: Queue;
  logger: Logger;
  clock: () => Date;
}): Pick<RenewalContext, "flushNotifications" | "relayOwedNotifications"> {
  const enqueue = (n: OwedNotification) =>
    deps.notifications.add(n.kind, n.payload, { ...NOTIFICATION_JOB_OPTIONS, jobId: n.jobId });
  const flushNow = async (jobIds: string[]) => {
    try {
      const result = await relayNotifications(deps.db, enqueue, { now: deps.clock(), jobIds });
      if (result.left > 0) deps.logger.warn({ jobIds, left: result.left }, "notification left in the outbox");
    } catch (error) {
      deps.logger.warn({ jobIds, err: (error as Error).message }, "notification left in the outbox");
    }
  };
  return {
    flushNotifications: coalesced(flushNow, FLUSH_BATCH_MAX),
    relayOwedNotifications: () =>
      relayNotifications(deps.db, enqueue, { now: deps.clock(), minAgeMs: 30_000, limit: 500 }),
  };
}

/**
 * `run` for many callers' ids at a time: a call while none runs starts one at once; calls made
 * while one runs wait and go together (at most `max` ids per run) as soon as it ends. Each call's
 * promise settles when the run carrying its ids has; `run` failing fails those calls only.
 */
export function coalesced(
  run: (ids: string[]) => Promise<void>,
  max: number,
): (ids: string[]) => Promise<void> {
  let waiting: { ids: string[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let running = false;
  async function drain() {
    running = true;
    try {
      while (waiting.length > 0) {
        // Whole callers only: a caller's ids never straddle two runs (the first caller always fits).
        let count = 0;
        let taken = 0;
        while (taken < waiting.length && (taken === 0 || count + waiting[taken]!.ids.length <= max)) {
          count += waiting[taken]!.ids.length;
          taken++;
        }
        const batch = waiting.slice(0, taken);
        waiting = waiting.slice(taken);
        try {
          await run(batch.flatMap((w) => w.ids));
          for (const w of batch) w.resolve();
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      running = false;
    }
  }
  return (ids) => {
    if (ids.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      waiting.push({ ids, resolve, reject });
      if (!running) void drain();
    });
  };
}
