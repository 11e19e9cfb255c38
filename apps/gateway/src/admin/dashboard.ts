import type { DbOrTx } from "@obuna/db";
import {
  countResolvedRenewalAttemptsSince,
  countStuckPaymentSessions,
  countUnknownPayments,
  countUnknownRenewalAttempts,
  liveSubscriptionFigures,
  sumSuccessfulPaymentsSince,
} from "@obuna/db/queries";

/** The figures of GET /api/v1/admin/dashboard, from the per-table queries of packages/db. */

const DAY_MS = 86_400_000;
const TASHKENT_OFFSET_MS = 5 * 3_600_000;

/** Midnight in Asia/Tashkent (UTC+5, no DST) of the day `now` falls in, as a UTC instant. */
export function tashkentDayStart(now: Date): Date {
  const local = now.getTime() + TASHKENT_OFFSET_MS;
  return new Date(Math.floor(local / DAY_MS) * DAY_MS - TASHKENT_OFFSET_MS);
}

export async function dashboardFigures(db: DbOrTx, now: Date, stuckAfterMs: number) {
  const since30 = new Date(now.getTime() - 30 * DAY_MS);
  const dayStart = tashkentDayStart(now);
  const live = await liveSubscriptionFigures(db);
  const renewals = await countResolvedRenewalAttemptsSince(db, since30);
  const today = await sumSuccessfulPaymentsSince(db, dayStart);
  const stuck = await countStuckPaymentSessions(db, new Date(now.getTime() - stuckAfterMs));
  const unknownPayments = await countUnknownPayments(db);
  const unknownAttempts = await countUnknownRenewalAttempts(db);
  return {
    activeSubscriptions: live.active,
    mrr: live.mrr,
    renewalsSucceeded: Number(renewals.find((r) => r.status === "success")?.n ?? 0),
    renewalsFailed: Number(renewals.find((r) => r.status === "failed")?.n ?? 0),
    paymentsToday: { count: today.count, sum: today.sum, since: dayStart },
    stuckSessions: stuck,
    unknownPayments,
    unknownAttempts,
  };
}
