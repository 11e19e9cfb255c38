import {
  purgeDeliveredPremiumEvents,
  purgeExpiredIdempotencyKeys,
  purgeOldCallbacks,
  purgeRelayedNotifications,
} from "@obuna/db/queries";
import type { RenewalContext } from "./deps";

const DAY = 86_400_000;

/** Relayed notification-outbox rows are kept this long (for support), then deleted. */
export const RELAYED_NOTIFICATIONS_KEPT_MS = 30 * DAY;

/** Premium events (and their delivery log) are kept this long once no delivery is pending. */
export const PREMIUM_EVENTS_KEPT_MS = 30 * DAY;

/** Rows deleted per table and run at most: a backlog goes over several runs without long locks. */
export const DEFAULT_PURGE_LIMIT = 5_000;

/** The `idempotency-purge` job: deletes expired Idempotency-Key records (a bounded batch per run). */
export async function purgeIdempotencyKeys(ctx: RenewalContext, options: { limit?: number } = {}) {
  const idempotencyKeys = await purgeExpiredIdempotencyKeys(
    ctx.db,
    ctx.clock(),
    options.limit ?? DEFAULT_PURGE_LIMIT,
  );
  if (idempotencyKeys > 0) ctx.logger.info({ idempotencyKeys }, "expired idempotency keys purged");
  return { idempotencyKeys };
}

/**
 * The `records-purge` job: deletes notification-outbox rows relayed more than 30 days ago, premium
 * events older than 30 days with no delivery pending (with their deliveries and attempts), and stored
 * ATMOS callbacks older than `callbackRetentionMs` (ATMOS_CALLBACK_RETENTION_DAYS), a bounded batch
 * of each per run; returns how many went.
 */
export async function purgeOldRecords(
  ctx: RenewalContext,
  options: { callbackRetentionMs: number; limit?: number },
) {
  const now = ctx.clock();
  const limit = options.limit ?? DEFAULT_PURGE_LIMIT;
  const purged = {
    relayedNotifications: await purgeRelayedNotifications(
      ctx.db,
      new Date(now.getTime() - RELAYED_NOTIFICATIONS_KEPT_MS),
      limit,
    ),
    callbacks: await purgeOldCallbacks(ctx.db, new Date(now.getTime() - options.callbackRetentionMs), limit),
    premiumEvents: await purgeDeliveredPremiumEvents(
      ctx.db,
      new Date(now.getTime() - PREMIUM_EVENTS_KEPT_MS),
      limit,
    ),
  };
  if (purged.relayedNotifications + purged.callbacks + purged.premiumEvents > 0)
    ctx.logger.info(purged, "old records purged");
  return purged;
}
