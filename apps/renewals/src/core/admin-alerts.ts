import { type NotificationJob, notificationJobId } from "@obuna/contracts/jobs";
import { countAlertSignals } from "@obuna/db/queries";
import type { RenewalContext } from "./deps";

const HOUR = 3_600_000;

export interface AlertCheck {
  failedLastHour: number;
  unknownOlderThanHour: { payments: number; renewalAttempts: number; sessions: number };
  /** Job ids of the alerts queued by this run (a repeat within the hour re-adds the same id: a no-op). */
  queued: string[];
}

/**
 * The `admin-alerts` job: failed payments in the last hour at or above ALERT_FAILED_PAYMENTS_PER_HOUR,
 * and charges whose outcome is still unknown after an hour. One alert per kind per clock hour
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
    queued: [],
  };
  const alert = async (kind: "failed_payments" | "unknown_outcomes", text: string) => {
    const job: NotificationJob = { kind: "admin_alert", alert: kind, text: text.slice(0, 3500) };
    await ctx.notify(job, `${kind}-${window}`);
    const jobId = notificationJobId(job, `${kind}-${window}`);
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
  return result;
}
