import { NOTIFICATION_JOB_OPTIONS } from "@obuna/contracts/jobs";
import type { Database } from "@obuna/db";
import { type OwedNotification, relayNotifications } from "@obuna/db/queries";
import type { Queue } from "bullmq";
import type { Logger } from "pino";
import type { RenewalContext } from "./deps";

/**
 * The worker's side of the notification outbox: `flushNotifications` right after a commit that
 * recorded messages, `relayOwedNotifications` from the maintenance job for what Redis did not take.
 */
export function outboxRelay(deps: {
  db: Database;
  notifications: Queue;
  logger: Logger;
  clock: () => Date;
}): Pick<RenewalContext, "flushNotifications" | "relayOwedNotifications"> {
  const enqueue = (n: OwedNotification) =>
    deps.notifications.add(n.kind, n.payload, { ...NOTIFICATION_JOB_OPTIONS, jobId: n.jobId });
  return {
    async flushNotifications(jobIds) {
      try {
        const result = await relayNotifications(deps.db, enqueue, { now: deps.clock(), jobIds });
        if (result.left > 0)
          deps.logger.warn({ jobIds, left: result.left }, "notification left in the outbox");
      } catch (error) {
        deps.logger.warn({ jobIds, err: (error as Error).message }, "notification left in the outbox");
      }
    },
    relayOwedNotifications: () =>
      relayNotifications(deps.db, enqueue, { now: deps.clock(), minAgeMs: 30_000, limit: 500 }),
  };
}
