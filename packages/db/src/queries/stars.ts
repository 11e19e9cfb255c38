import { and, eq, gte, inArray, isNotNull, isNull } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { paymentSessions, payments, plans, subscriptions, users } from "../schema/index";

/** A session with its owner's Telegram id and its plan: what a Stars invoice and its pre-checkout check read. */
export async function getStarsSessionView(db: DbOrTx, sessionId: string) {
  const [row] = await db
    .select({
      session: paymentSessions,
      telegramId: users.telegramId,
      language: users.language,
      languageCode: users.languageCode,
      plan: plans,
    })
    .from(paymentSessions)
    .innerJoin(users, eq(users.id, paymentSessions.userId))
    .innerJoin(plans, eq(plans.id, paymentSessions.planId))
    .where(eq(paymentSessions.id, sessionId))
    .limit(1);
  return row ?? null;
}

/** Records the Stars invoice made for a pending session: its price in Stars and whether it is a subscription. */
export async function setSessionStarsInvoice(
  db: DbOrTx,
  sessionId: string,
  set: { starsAmount: number; starsSubscription: boolean; now: Date },
) {
  const rows = await db
    .update(paymentSessions)
    .set({ starsAmount: set.starsAmount, starsSubscription: set.starsSubscription, updatedAt: set.now })
    .where(and(eq(paymentSessions.id, sessionId), eq(paymentSessions.status, "pending")))
    .returning({ id: paymentSessions.id });
  return rows.length > 0;
}

/** The payment of one Telegram Stars charge (its unique telegram_payment_charge_id), locked. */
export async function lockPaymentByChargeId(tx: DbOrTx, chargeId: string) {
  const [row] = await tx
    .select()
    .from(payments)
    .where(eq(payments.telegramPaymentChargeId, chargeId))
    .for("update")
    .limit(1);
  return row ?? null;
}

/** The user id of a Telegram account, if we know it. */
export async function findUserIdByTelegramId(db: DbOrTx, telegramId: number) {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.telegramId, telegramId))
    .limit(1);
  return row?.id ?? null;
}

/** The successful payment that completed a session (the one-success-per-session index makes it one). */
export async function findSessionSuccessPayment(db: DbOrTx, sessionId: string) {
  const [row] = await db
    .select()
    .from(payments)
    .where(and(eq(payments.sessionId, sessionId), eq(payments.status, "success")))
    .limit(1);
  return row ?? null;
}

/** Every Telegram Stars payment since `since` (reconcile). */
export async function listStarsPayments(db: DbOrTx, since: Date) {
  return db
    .select({
      id: payments.id,
      telegramPaymentChargeId: payments.telegramPaymentChargeId,
      starsAmount: payments.starsAmount,
      status: payments.status,
    })
    .from(payments)
    .where(and(eq(payments.provider, "telegram_stars"), gte(payments.createdAt, since)));
}

/**
 * Live subscriptions that moved to the card rail while their Stars subscription was never canceled
 * at Telegram (billing's owesStarsRenewalCancel), with the Telegram id editUserStarSubscription needs.
 */
export async function listSubscriptionsOwingStarsCancel(
  db: DbOrTx,
  filter: { subscriptionId?: number } = {},
) {
  const rows = await db
    .select({
      subscriptionId: subscriptions.id,
      starsChargeId: subscriptions.starsChargeId,
      telegramId: users.telegramId,
    })
    .from(subscriptions)
    .innerJoin(users, eq(users.id, subscriptions.userId))
    .where(
      and(
        filter.subscriptionId === undefined ? undefined : eq(subscriptions.id, filter.subscriptionId),
        eq(subscriptions.rail, "card"),
        isNotNull(subscriptions.starsChargeId),
        isNull(subscriptions.starsCanceledAt),
        inArray(subscriptions.status, ["active", "past_due"]),
      ),
    )
    .orderBy(subscriptions.id);
  return rows.map((r) => ({ ...r, starsChargeId: r.starsChargeId! }));
}
