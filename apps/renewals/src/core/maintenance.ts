import { expireIfDue } from "@obuna/billing";
import {
  findEndedSubscriptions,
  findGraceEndedSubscriptions,
  findReminderCandidates,
  markReminderSent,
} from "@obuna/db/queries";
import type { RenewalContext } from "./deps";

/** Last moment a YYMM card can be used: the end of its expiry month (UTC). */
export function cardValidUntil(expiryYYMM: string): Date {
  const year = 2000 + Number(expiryYYMM.slice(0, 2));
  const month = Number(expiryYYMM.slice(2, 4)); // 1..12
  return new Date(Date.UTC(year, month, 1) - 1);
}

/**
 * Expires one subscription if, under its row lock, it is still in the state that made it a
 * candidate and no charge for its period is pending or unknown (the money core's `expireIfDue`).
 * Returns whether it expired.
 */
async function expireIfStill(
  ctx: RenewalContext,
  subscriptionId: number,
  check: "ended" | "grace",
): Promise<boolean> {
  const result = await ctx.db.transaction((tx) => expireIfDue(tx, ctx, { subscriptionId, check }));
  if (result.status !== "expired") return false;
  await ctx.flushNotifications(result.notificationIds);
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
