import {
  getPlanById,
  listPriceNoticeCandidates,
  lockSubscription,
  recordNotification,
  updateSubscription,
} from "@obuna/db/queries";
import type { RenewalContext } from "./deps";

const DAY = 86_400_000;
/**
 * The notice goes out up to one day before it must (PRICE_CHANGE_NOTICE_DAYS before the charge), so
 * a pass every few minutes, or a worker down for hours, still tells the subscriber in time.
 */
export const PRICE_NOTICE_SLACK_MS = DAY;

/**
 * The period end from which a new price may be charged: the first of `endDate`, `endDate + period`,
 * … whose charge (end − lead) is not before `earliestChargeAt`.
 */
export function firstPeriodAtNewPrice(
  endDate: Date,
  durationMs: number,
  leadMs: number,
  earliestChargeAt: Date,
): Date {
  const chargeAt = endDate.getTime() - leadMs;
  const periods = Math.max(0, Math.ceil((earliestChargeAt.getTime() - chargeAt) / durationMs));
  return new Date(endDate.getTime() + periods * durationMs);
}

interface Candidate {
  id: number;
  endDate: Date;
  newPriceSetAt: Date | null;
  durationDays: number;
}

/**
 * Price-change notices (docs/plans.md). A live auto-renewing subscription with a pending new price
 * (an admin changed its plan's price) is told PRICE_CHANGE_NOTICE_DAYS (up to a day more) before its
 * first renewal at the new price; that renewal is the first whose charge is at least the notice
 * period after the change. Under the row lock, in one transaction: the notice goes into the outbox
 * (one per subscription and price change: the job id carries the change time) and
 * `new_price_notice_sent_at` + `new_price_from` are set; if the notice goes out later than planned
 * (worker down), `new_price_from` moves to a later period so the full notice period still holds.
 * Until then renewals charge the old price (`renewalAmount`).
 */
export async function sendPriceChangeNotices(ctx: RenewalContext, options: { pageSize?: number } = {}) {
  const now = ctx.clock();
  const { leadMs, priceNoticeMs } = ctx.policy;
  const pageSize = options.pageSize ?? 500;
  let after = 0;
  let sent = 0;
  for (;;) {
    const page: Candidate[] = await listPriceNoticeCandidates(ctx.db, { after, limit: pageSize });
    for (const c of page) {
      const durationMs = c.durationDays * DAY;
      const setAt = c.newPriceSetAt ?? now;
      const planned = firstPeriodAtNewPrice(
        c.endDate,
        durationMs,
        leadMs,
        new Date(setAt.getTime() + priceNoticeMs),
      );
      const noticeDueAt = planned.getTime() - leadMs - priceNoticeMs - PRICE_NOTICE_SLACK_MS;
      if (now.getTime() < noticeDueAt) continue;
      if (await sendOne(ctx, c.id, now)) sent++;
    }
    if (page.length < pageSize) break;
    after = page.at(-1)!.id;
  }
  return sent;
}

async function sendOne(ctx: RenewalContext, subscriptionId: number, now: Date): Promise<boolean> {
  const { leadMs, priceNoticeMs } = ctx.policy;
  const jobId = await ctx.db.transaction(async (tx) => {
    const sub = await lockSubscription(tx, subscriptionId);
    if (!sub || sub.newRenewalPrice === null || sub.newPriceNoticeSentAt !== null) return null;
    if ((sub.status !== "active" && sub.status !== "past_due") || !sub.autoRenew) return null;
    const plan = await getPlanById(tx, sub.planId);
    const setAt = sub.newPriceSetAt ?? now;
    const earliest = Math.max(setAt.getTime(), now.getTime()) + priceNoticeMs;
    const from = firstPeriodAtNewPrice(sub.endDate, plan!.durationDays * DAY, leadMs, new Date(earliest));
    await updateSubscription(tx, sub.id, { newPriceNoticeSentAt: now, newPriceFrom: from, updatedAt: now });
    return recordNotification(
      tx,
      {
        kind: "price_change_notice",
        userId: sub.userId,
        subscriptionId: sub.id,
        oldAmount: sub.renewalPrice ?? plan!.price,
        newAmount: sub.newRenewalPrice,
        effectiveAt: new Date(from.getTime() - leadMs).toISOString(),
      },
      `${sub.id}-${setAt.getTime()}`,
      now,
    );
  });
  if (jobId === null) return false;
  await ctx.flushNotifications([jobId]);
  return true;
}
