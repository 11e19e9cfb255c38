import {
  findEndedSubscriptions,
  findGraceEndedSubscriptions,
  findReminderCandidates,
  hasOpenAttempt,
  lockSubscription,
  markReminderSent,
} from "@obuna/db/queries";
import { expireInTx, recordExpiryNotice } from "./attempts";
import type { RenewalContext } from "./deps";

/** Last moment a YYMM card can be used: the end of its expiry month (UTC). */
export function cardValidUntil(expiryYYMM: string): Date {
  const year = 2000 + Number(expiryYYMM.slice(0, 2));
  const month = Number(expiryYYMM.slice(2, 4)); // 1..12
  return new Date(Date.UTC(year, month, 1) - 1);
}

/**
 * Expires one subscription if, under its row lock, it is still in the state that made it a
 * candidate and no charge for its period is pending or unknown. Returns whether it expired.
 */
async function expireIfStill(
  ctx: RenewalContext,
  subscriptionId: number,
  check: "ended" | "grace",
): Promise<boolean> {
  const now = ctx.clock();
  const result = await ctx.db.transaction(async (tx) => {
    const sub = await lockSubscription(tx, subscriptionId);
    if (!sub) return null;
    if (check === "ended" && !(sub.status === "active" && sub.endDate <= now)) return null;
    if (check === "grace" && !(sub.status === "past_due" && sub.graceUntil && sub.graceUntil <= now))
      return null;
    // Never expire while money for this period may still be moving: the janitor decides first.
    if (await hasOpenAttempt(tx, sub.id, sub.endDate)) return null;
    await expireInTx(
      tx,
      sub,
      now,
      check === "ended" ? "end date passed without renewal" : "grace period over",
    );
    return recordExpiryNotice(tx, sub, sub.endDate.getTime(), now);
  });
  if (!result) return false;
  await ctx.flushNotifications([result]);
  return true;
}

export async function expireSubscriptions(ctx: RenewalContext, options: { limit?: number } = {}) {
  const limit = options.limit ?? 1000;
  const now = ctx.clock();
  let expired = 0;
  for (const { id } of await findEndedSubscriptions(ctx.db, { now, limit })) {
    if (await expireIfStill(ctx, id, "ended")) expired++;
  }
  for (const { id } of await findGraceEndedSubscriptions(ctx.db, { now, limit })) {
    if (await expireIfStill(ctx, id, "grace")) expired++;
  }
  return expired;
}

/**
 * One reminder per period, RENEWAL_REMINDER_DAYS before the charge (the bot shows amount, date and
 * masked card from the ids); when the saved card expires before that charge, a card-expiring nudge
 * goes with it. Enqueue first (deterministic job id), then mark: a crash in between re-sends nothing.
 */
export async function sendReminders(ctx: RenewalContext, options: { limit?: number } = {}) {
  const now = ctx.clock();
  const candidates = await findReminderCandidates(ctx.db, {
    now,
    leadMs: ctx.policy.leadMs,
    reminderMs: ctx.policy.reminderMs,
    limit: options.limit ?? 1000,
  });
  let reminders = 0;
  let cardNudges = 0;
  for (const c of candidates) {
    const chargeAt = new Date(c.endDate.getTime() - ctx.policy.leadMs);
    const period = c.endDate.getTime();
    await ctx.notify(
      {
        kind: "renewal_reminder",
        userId: c.userId,
        subscriptionId: c.subscriptionId,
        chargeAt: chargeAt.toISOString(),
      },
      `${c.subscriptionId}-${period}`,
    );
    if (cardValidUntil(c.cardExpiry) < chargeAt) {
      await ctx.notify(
        {
          kind: "card_expiring",
          userId: c.userId,
          boundCardId: c.boundCardId,
          subscriptionId: c.subscriptionId,
        },
        `${c.boundCardId}-${period}`,
      );
      cardNudges++;
    }
    if (await markReminderSent(ctx.db, c.subscriptionId, c.endDate)) reminders++;
  }
  return { reminders, cardNudges };
}
