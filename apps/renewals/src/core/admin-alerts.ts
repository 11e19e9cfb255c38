import { type NotificationJob, notificationJobId } from "@obuna/contracts/jobs";
import { countAlertSignals } from "@obuna/db/queries";
import type { RenewalContext } from "./deps";

const HOUR = 3_600_000;

export interface AlertCheck {
  failedLastHour: number;
  unknownOlderThanHour: { payments: number; renewalAttempts: number; sessions: number };
  /** Card-renewed subscriptions whose Stars subscription Telegram still renews, for over an hour. */
  starsCancelsOwed: number;
  /** Job ids of the alerts queued by this run (a repeat within the hour re-adds the same id: a no-op). */
  queued: string[];
}

/**
 * The `admin-alerts` job: failed payments in the last hour at or above ALERT_FAILED_PAYMENTS_PER_HOUR,
 * charges whose outcome is still unknown after an hour, and Stars subscriptions a card took over that
 * are still not canceled at Telegram after an hour. One alert per kind per clock hour
 * (job ids `ntf-admin_alert-admin-<alert>-<hour>`, the ones `pnpm reconcile` uses too).
 */
export async function checkAdminAlerts(
  ctx: RenewalContext,
  options: { failedPaymentsPerHour: number },
): Promise<AlertCheck> {
  const now = ctx.clock();
  const hourAgo = new Date(now.getTime() - HOUR);
  const window = new Date(Math.floor(now.getTime() / HOUR) * HOUR).toISOString().slice(0, 13);
  const signals = await countAlertSignals(ctx.db, { failedSince: hourAgo, unresolvedBefore: hourAgo });
  const result: AlertCheck = {
    failedLastHour: signals.failedPayments,
    unknownOlderThanHour: signals.unresolved,
    starsCancelsOwed: signals.starsCancelsOwed,
    queued: [],
  };
  const alert = async (
    kind: "failed_payments" | "unknown_outcomes" | "reconciliation",
    text: string,
    name: string = kind,
  ) => {
    const job: NotificationJob = { kind: "admin_alert", alert: kind, text: text.slice(0, 3500) };
    await ctx.notify(job, `${name}-${window}`);
    const jobId = notificationJobId(job, `${name}-${window}`);
    ctx.logger.warn({ alert: kind, jobId }, "admin alert queued");
    result.queued.push(jobId);
  };
  const threshold = options.failedPaymentsPerHour;
  if (result.failedLastHour >= threshold) {
    await alert(
      "failed_payments",
      `⚠️ ${result.failedLastHour} failed payments in the last hour (threshold ${threshold}).`,
    );
  }
  const u = result.unknownOlderThanHour;
  if (u.payments + u.renewalAttempts + u.sessions > 0) {
    await alert(
      "unknown_outcomes",
      `⚠️ Outcomes unknown for over an hour: ${u.payments} payments, ${u.renewalAttempts} renewal attempts, ${u.sessions} sessions in processing. Run \`pnpm reconcile\`.`,
    );
  }
  if (result.starsCancelsOwed > 0) {
    // The card took over renewing, but the cancel at Telegram never went through (an unclear answer,
    // or a payment the stuck-session job completed): both rails could charge for the same period.
    await alert(
      "reconciliation",
      `⚠️ ${result.starsCancelsOwed} subscriptions renewed by card still have a Telegram Stars subscription that is not canceled: Telegram may charge them again. Run \`pnpm reconcile --stars\` (it cancels them and reports what it could not).`,
      "stars_cancel_owed",
    );
  }
  return result;
}
