import { providerChargeReader, recheckStuckSessions } from "@obuna/billing";
import { expireStalePaymentSessions } from "@obuna/db/queries";
import { checkAdminAlerts } from "../core/admin-alerts";
import { eraseRetiredCardTokens } from "../core/card-tokens";
import type { RenewalContext } from "../core/deps";
import { runJanitor } from "../core/janitor";
import { expireSubscriptions, sendReminders } from "../core/maintenance";
import { sendPriceChangeNotices } from "../core/price-notices";
import { purgeIdempotencyKeys, purgeOldRecords } from "../core/purge";

/**
 * The processor of a periodic job (queues/periodic-jobs.ts). Its scheduler-made jobs carry `{}` and
 * nothing is read from them: each run looks at the database as it is now.
 */
export type PeriodicProcessor = (ctx: RenewalContext) => Promise<unknown>;

/** Logs a run's summary when it did anything (most runs do nothing and stay quiet). */
function logIfAny<T extends Record<string, number>>(ctx: RenewalContext, message: string, summary: T): T {
  if (Object.values(summary).some((n) => n > 0)) ctx.logger.info(summary as Record<string, number>, message);
  return summary;
}

export const janitorProcessor: PeriodicProcessor = (ctx) => runJanitor(ctx);

export const priceNoticesProcessor: PeriodicProcessor = async (ctx) => ({
  sent: await sendPriceChangeNotices(ctx),
});

/** The one periodic outbox relay of the cluster: notifications owed for over 30 s. */
export const outboxRelayProcessor: PeriodicProcessor = async (ctx) =>
  logIfAny(ctx, "owed notifications relayed", { ...(await ctx.relayOwedNotifications()) });

/** Subscriptions past their end date or grace period, and pending payment sessions past their expiry. */
export const expiryProcessor: PeriodicProcessor = async (ctx) =>
  logIfAny(ctx, "expiry pass", {
    subscriptionsExpired: await expireSubscriptions(ctx),
    sessionsExpired: await expireStalePaymentSessions(ctx.db, ctx.clock()),
  });

export const remindersProcessor: PeriodicProcessor = async (ctx) =>
  logIfAny(ctx, "reminders sent", await sendReminders(ctx));

export const cardTokenErasureProcessor: PeriodicProcessor = async (ctx) =>
  logIfAny(ctx, "retired card tokens erased", await eraseRetiredCardTokens(ctx));

export const idempotencyPurgeProcessor: PeriodicProcessor = (ctx) => purgeIdempotencyKeys(ctx);

export const recordsPurgeProcessor =
  (options: { callbackRetentionMs: number }): PeriodicProcessor =>
  (ctx) =>
    purgeOldRecords(ctx, options);

export const adminAlertsProcessor =
  (options: { failedPaymentsPerHour: number }): PeriodicProcessor =>
  (ctx) =>
    checkAdminAlerts(ctx, options);

/**
 * Payment sessions left `processing` for over 5 minutes (an unclear apply whose client went away
 * and no callback came): the provider is asked and the money core completes or fails them
 * (`recheckStuckSessions` in @obuna/billing); a charge never confirmed after 30 minutes fails.
 */
export const stuckSessionRecheckProcessor: PeriodicProcessor = async (ctx) => {
  const results = await recheckStuckSessions(ctx.db, {
    clock: ctx.clock,
    cardTokenKey: ctx.cardTokenKey,
    actor: "renewals",
    onCardRefused: (info) =>
      ctx.logger.warn(info, "SECURITY: the provider charged another card than the one this session bound"),
    readCharge: providerChargeReader(ctx.provider, (error, externalId) =>
      ctx.logger.warn(
        { transactionId: externalId, err: (error as Error).message },
        "stuck session: the provider could not be asked",
      ),
    ),
  });
  for (const r of results) await ctx.flushNotifications(r.notificationIds);
  const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
  return logIfAny(ctx, "stuck sessions re-checked", {
    completed: count("completed"),
    failed: count("failed"),
    unknown: count("unknown"),
  });
};
