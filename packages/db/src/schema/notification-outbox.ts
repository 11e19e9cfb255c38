import { sql } from "drizzle-orm";
import { index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { identityId, timestamptz } from "./columns";

/**
 * Transactional outbox for the notifications a money event owes the user (payment succeeded, renewal
 * charged or declined, subscription expired). The row is written in the same transaction as the
 * event, then handed to the `notifications` queue (BullMQ job id = `job_id`) right after the commit;
 * rows Redis could not take are relayed by the renewals worker's `outbox-relay` job. So a Redis
 * outage or a crash after the commit delays a message but never loses it.
 */
export const notificationOutbox = pgTable(
  "notification_outbox",
  {
    id: identityId(),
    /** The deterministic BullMQ job id (`ntf-<kind>-<user>-<discriminator>`); one row per message. */
    jobId: text().notNull().unique(),
    kind: text().notNull(),
    /** The NotificationJob, as validated by @obuna/contracts (ids only, never card data). */
    payload: jsonb().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
    /** When the queue accepted the job; null = still owed. */
    queuedAt: timestamptz(),
  },
  (t) => [index("notification_outbox_pending_idx").on(t.createdAt).where(sql`${t.queuedAt} is null`)],
);
