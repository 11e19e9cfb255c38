import type { DbOrTx, Plan, Subscription, Transaction } from "@obuna/db";
import {
  completeSession,
  extendedEndDate,
  findSessionSuccessPayment,
  getPlanById,
  getStarsSessionView,
  insertPayment,
  lockPayment,
  lockPaymentByChargeId,
  lockSession,
  lockSubscription,
  markPaymentReversed,
  recordNotification,
  setSessionStarsInvoice,
  setUserRole,
  updateSubscription,
} from "@obuna/db/queries";
import { writeAudit } from "./audit";
import type { AuditBy, BillingDeps } from "./deps";
import { recordPremiumEvent } from "./events";
import { grantPurchasedPeriod, isLive, type Period, takeBackPeriod } from "./subscriptions";

export { renewsWith } from "./rails";

/**
 * Telegram Stars, the second rail (docs/stars.md). Telegram sells and renews: a 30-day plan is a
 * native Stars subscription (Telegram charges it again every 30 days and sends a recurring
 * `successful_payment`), longer plans are one-off invoices. Our rules:
 *
 * - an invoice is made for a payment session (payload = the session id), at the plan's Stars price;
 * - the pre-checkout check (answered within Telegram's 10 s) admits only a live session of that user,
 *   in XTR, at that amount;
 * - each Telegram charge (its unique `telegram_payment_charge_id`) is one payment row, once, whatever
 *   update repeats it; it buys one period of the session's plan, in the same transaction;
 * - one subscription per user whatever the rail: a Stars subscription turns card auto-renew off on
 *   the subscription (rail `stars`), so the renewals worker never charges a card for a period
 *   Telegram renews; paying a card with auto-renew later makes the rail `card` again;
 * - `refunded_payment` takes the payment's period back, like a card refund.
 */

/** Currency code of Telegram Stars. */
export const STARS_CURRENCY = "XTR";
/** The only subscription period Telegram allows (30 days), in seconds. */
export const STARS_SUBSCRIPTION_PERIOD_S = 2_592_000;
/** Telegram caps a Stars subscription's price. */
export const STARS_SUBSCRIPTION_MAX_PRICE = 10_000;

/** The `createInvoiceLink` parameters of a session's Stars invoice (Bot API names). */
export interface StarsInvoice {
  title: string;
  description: string;
  payload: string;
  provider_token: "";
  currency: typeof STARS_CURRENCY;
  prices: [{ label: string; amount: number }];
  subscription_period?: typeof STARS_SUBSCRIPTION_PERIOD_S;
}

/** A plan sold as a native Stars subscription: exactly Telegram's 30-day period, within its price cap. */
export function isStarsSubscriptionPlan(plan: Pick<Plan, "durationDays" | "starsPrice">): boolean {
  return (
    plan.durationDays * 86_400 === STARS_SUBSCRIPTION_PERIOD_S &&
    plan.starsPrice !== null &&
    plan.starsPrice <= STARS_SUBSCRIPTION_MAX_PRICE
  );
}

export type StarsInvoiceOutcome =
  | { status: "ready"; invoice: StarsInvoice; starsAmount: number; subscription: boolean }
  | { status: "not_found" }
  | { status: "not_payable"; reason: "session_closed" | "session_expired" | "not_sold_for_stars" };

/**
 * The Stars invoice of a pending session: the plan's Stars price recorded on the session (what the
 * pre-checkout check compares), payload = the session id. Title and description in the user's words.
 */
export async function prepareStarsInvoice(
  db: DbOrTx,
  deps: BillingDeps,
  input: { sessionId: string; title: string; description: string },
): Promise<StarsInvoiceOutcome> {
  const now = deps.clock();
  const view = await getStarsSessionView(db, input.sessionId);
  if (!view) return { status: "not_found" };
  const { session, plan } = view;
  if (session.status !== "pending") return { status: "not_payable", reason: "session_closed" };
  if (session.expiresAt <= now) return { status: "not_payable", reason: "session_expired" };
  if (plan.starsPrice === null) return { status: "not_payable", reason: "not_sold_for_stars" };
  const subscription = isStarsSubscriptionPlan(plan);
  const set = await setSessionStarsInvoice(db, session.id, {
    starsAmount: plan.starsPrice,
    starsSubscription: subscription,
    now,
  });
  if (!set) return { status: "not_payable", reason: "session_closed" };
  return {
    status: "ready",
    starsAmount: plan.starsPrice,
    subscription,
    invoice: {
      title: input.title.slice(0, 32),
      description: input.description.slice(0, 255),
      payload: session.id,
      provider_token: "",
      currency: STARS_CURRENCY,
      prices: [{ label: input.title.slice(0, 32), amount: plan.starsPrice }],
      ...(subscription ? { subscription_period: STARS_SUBSCRIPTION_PERIOD_S } : {}),
    },
  };
}

export type PreCheckoutVerdict =
  | { ok: true }
  | {
      ok: false;
      reason:
        | "session_not_found"
        | "session_closed"
        | "session_expired"
        | "wrong_user"
        | "wrong_currency"
        | "wrong_amount"
        | "no_invoice";
    };

/** The pre-checkout check: the payload names a live session of this user whose Stars invoice has this amount. */
export async function checkStarsPreCheckout(
  db: DbOrTx,
  deps: BillingDeps,
  input: { payload: string; telegramId: number; currency: string; totalAmount: number },
): Promise<PreCheckoutVerdict> {
  const now = deps.clock();
  if (!UUID.test(input.payload)) return { ok: false, reason: "session_not_found" };
  const view = await getStarsSessionView(db, input.payload);
  if (!view) return { ok: false, reason: "session_not_found" };
  const { session } = view;
  if (view.telegramId !== input.telegramId) return { ok: false, reason: "wrong_user" };
  if (session.status !== "pending") return { ok: false, reason: "session_closed" };
  if (session.expiresAt <= now) return { ok: false, reason: "session_expired" };
  if (session.starsAmount === null) return { ok: false, reason: "no_invoice" };
  if (input.currency !== STARS_CURRENCY) return { ok: false, reason: "wrong_currency" };
  if (input.totalAmount !== session.starsAmount) return { ok: false, reason: "wrong_amount" };
  return { ok: true };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A `successful_payment` in Bot API terms (the fields our rules read). */
export interface StarsCharge {
  telegramId: number;
  currency: string;
  totalAmount: number;
  payload: string;
  telegramPaymentChargeId: string;
  isRecurring: boolean;
  isFirstRecurring: boolean;
  /** subscription_expiration_date, for a subscription's charges. */
  subscriptionExpiresAt: Date | null;
}

export type StarsPaymentOutcome =
  | {
      status: "recorded";
      paymentId: number;
      userId: number;
      subscriptionId: number;
      subscription: "started" | "extended";
      period: Period;
      notificationIds: string[];
    }
  | { status: "duplicate"; paymentId: number }
  /** Money moved that no session of this user explains: held for an operator (an admin alert). */
  | { status: "unmatched"; reason: string; notificationIds: string[] };

/**
 * record a Stars charge, once per telegram_payment_charge_id, in the caller's transaction: the
 * payment row (provider telegram_stars, `amount` 0 tiyin, `stars_amount`), the period bought, the
 * user premium, the session completed, the audit row and the user's message. A first charge (one-off,
 * or a subscription's first) starts or extends the user's one subscription (grantPurchasedPeriod); a
 * subscription's first charge puts it on the `stars` rail (card auto-renew off); a recurring charge
 * extends that same subscription from its end date. Two concurrent deliveries of one charge: the
 * unique charge id refuses the second insert (a unique violation the caller retries → `duplicate`).
 */
export async function recordStarsPayment(
  tx: Transaction,
  deps: BillingDeps,
  input: StarsCharge & { actor: string },
): Promise<StarsPaymentOutcome> {
  const now = deps.clock();
  const existing = await lockPaymentByChargeId(tx, input.telegramPaymentChargeId);
  if (existing) return { status: "duplicate", paymentId: existing.id };

  const unmatched = async (reason: string): Promise<StarsPaymentOutcome> => {
    const notificationId = await recordNotification(
      tx,
      {
        kind: "admin_alert",
        alert: "reconciliation",
        text: `Telegram Stars charge ${input.telegramPaymentChargeId} (${input.totalAmount} ${input.currency}) from Telegram user ${input.telegramId} was not recorded: ${reason}. Refund it with refundStarPayment or grant the period by hand.`,
      },
      `stars-unmatched-${input.telegramPaymentChargeId}`,
      now,
    );
    return { status: "unmatched", reason, notificationIds: [notificationId] };
  };

  if (input.currency !== STARS_CURRENCY) return unmatched(`currency ${input.currency}`);
  if (!UUID.test(input.payload)) return unmatched("payload is not a session id");
  const session = await lockSession(tx, input.payload);
  if (!session) return unmatched("no session for the payload");
  const view = await getStarsSessionView(tx, session.id);
  if (!view || view.telegramId !== input.telegramId) return unmatched("the session belongs to another user");
  const plan = await getPlanById(tx, session.planId);
  if (!plan) throw new Error(`plan ${session.planId} missing`);

  const recurringRenewal = input.isRecurring && !input.isFirstRecurring;
  let subscriptionId: number;
  let period: Period;
  let granted: "started" | "extended";
  const linked = recurringRenewal ? await subscriptionOfSession(tx, session.id) : null;
  if (linked && isLive(linked)) {
    // Telegram renewed the Stars subscription: the same subscription, the period after its end date
    // (Telegram charges at the end, and the update arrives a little later: no time is lost or gained).
    const fromEnd = {
      start: linked.endDate,
      end: new Date(linked.endDate.getTime() + plan.durationDays * 86_400_000),
    };
    period = fromEnd.end > now ? fromEnd : extendedEndDate(null, now, plan.durationDays);
    await updateSubscription(tx, linked.id, {
      endDate: period.end,
      status: "active",
      renewalAttempts: 0,
      renewalError: null,
      graceUntil: null,
      nextRenewalAt: null,
      lastRenewalAttempt: now,
      starsExpiresAt: input.subscriptionExpiresAt,
      updatedAt: now,
    });
    await setUserRole(tx, linked.userId, "premium");
    await recordPremiumEvent(tx, deps, {
      type: "premium.renewed",
      subscriptionId: linked.id,
      period: period.end,
    });
    subscriptionId = linked.id;
    granted = "extended";
  } else {
    // A first charge, or a renewal of a subscription that ended meanwhile: the user's one subscription.
    const purchase = await grantPurchasedPeriod(tx, deps, {
      userId: session.userId,
      plan,
      paidAmount: plan.price,
      renewWithCardId: null,
      ...(input.isRecurring
        ? {
            starsSubscription: {
              chargeId: input.telegramPaymentChargeId,
              expiresAt: input.subscriptionExpiresAt,
            },
          }
        : {}),
    });
    subscriptionId = purchase.subscriptionId;
    period = purchase.period;
    granted = purchase.status;
  }

  const firstOfSession = session.status !== "completed";
  const paymentId = await insertPayment(tx, {
    userId: session.userId,
    subscriptionId,
    // The one-success-per-session index: only the charge that completes the session names it.
    sessionId: firstOfSession ? session.id : null,
    provider: "telegram_stars",
    kind: recurringRenewal ? "renewal" : "initial",
    status: "success",
    amount: 0,
    starsAmount: input.totalAmount,
    telegramPaymentChargeId: input.telegramPaymentChargeId,
    idempotencyKey: `stars:${input.telegramPaymentChargeId}`,
    periodStart: period.start,
    periodEnd: period.end,
    offerVersion: session.offerVersion,
    offerAcceptedAt: session.offerAcceptedAt,
    createdAt: now,
    updatedAt: now,
  });
  if (firstOfSession) await completeSession(tx, session.id, { now, dropBindingToken: false });
  await writeAudit(
    tx,
    {
      actor: input.actor,
      action: recurringRenewal ? "renewal.succeeded" : "payment.succeeded",
      entityType: "payment",
      entityId: paymentId,
      reason: "telegram_stars",
      details: {
        sessionId: session.id,
        subscriptionId,
        telegramPaymentChargeId: input.telegramPaymentChargeId,
        stars: input.totalAmount,
        recurring: input.isRecurring,
        firstRecurring: input.isFirstRecurring,
      },
    },
    now,
  );
  const notificationId = await recordNotification(
    tx,
    {
      kind: recurringRenewal ? "renewal_succeeded" : "payment_succeeded",
      userId: session.userId,
      paymentId,
      subscriptionId,
    },
    paymentId,
    now,
  );
  return {
    status: "recorded",
    paymentId,
    userId: session.userId,
    subscriptionId,
    subscription: granted,
    period,
    notificationIds: [notificationId],
  };
}

/** The subscription a session's first payment started or extended (a Stars subscription's renewals go there). */
async function subscriptionOfSession(tx: Transaction, sessionId: string) {
  const payment = await findSessionSuccessPayment(tx, sessionId);
  if (!payment?.subscriptionId) return null;
  return lockSubscription(tx, payment.subscriptionId);
}

export type StarsRefundOutcome =
  | { status: "refunded"; paymentId: number; auditId: number; notificationIds: string[] }
  | { status: "already_refunded"; paymentId: number }
  | { status: "not_found" };

/**
 * record a Stars refund (Telegram's `refunded_payment`, or our own `refundStarPayment` that
 * succeeded): the payment `reversed`, its period taken back (expired when that ends access), the
 * audit row and the user's message — once per charge.
 */
export async function recordStarsRefund(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    telegramPaymentChargeId: string;
    actor: string;
    reason: string;
    details?: Record<string, unknown>;
  },
): Promise<StarsRefundOutcome> {
  const now = deps.clock();
  const payment = await lockPaymentByChargeId(tx, input.telegramPaymentChargeId);
  if (!payment) return { status: "not_found" };
  if (payment.status === "reversed") return { status: "already_refunded", paymentId: payment.id };
  await markPaymentReversed(tx, payment.id, { reason: input.reason, now });
  const period =
    payment.subscriptionId !== null && payment.periodStart && payment.periodEnd
      ? await takeBackPeriod(tx, deps, {
          subscriptionId: payment.subscriptionId,
          period: { start: payment.periodStart, end: payment.periodEnd },
        })
      : null;
  const auditId = await writeAudit(
    tx,
    {
      actor: input.actor,
      action: "payment.refunded",
      entityType: "payment",
      entityId: payment.id,
      reason: input.reason,
      details: {
        ...input.details,
        provider: "telegram_stars",
        stars: payment.starsAmount,
        telegramPaymentChargeId: input.telegramPaymentChargeId,
        ...(period
          ? {
              period: {
                subscriptionId: period.subscriptionId,
                previousEndDate: period.previousEndDate.toISOString(),
                newEndDate: period.newEndDate.toISOString(),
                expired: period.expired,
              },
            }
          : {}),
      },
    },
    now,
  );
  const notificationId = await recordNotification(
    tx,
    {
      kind: "payment_refunded",
      userId: payment.userId,
      paymentId: payment.id,
      subscriptionId: payment.subscriptionId,
      endDate: period ? period.newEndDate.toISOString() : null,
      accessEnded: period?.expired ?? false,
    },
    payment.id,
    now,
  );
  return { status: "refunded", paymentId: payment.id, auditId, notificationIds: [notificationId] };
}

/** A Stars transaction as `getStarTransactions` lists it (Bot API StarTransaction, the fields we read). */
export interface StarTransaction {
  /** For a user's payment: its telegram_payment_charge_id. */
  id: string;
  amount: number;
  date: number;
  source?: { type: string; user?: { id: number } };
  receiver?: { type: string; user?: { id: number } };
}

/**
 * The Bot API's Stars methods, as a port: the gateway's composition root gives the Telegram adapter
 * (apps/gateway/src/telegram-bot-api.ts); nothing else calls Telegram for money.
 */
export interface StarsBotApi {
  createInvoiceLink(invoice: StarsInvoice): Promise<string>;
  refundStarPayment(input: { user_id: number; telegram_payment_charge_id: string }): Promise<true>;
  editUserStarSubscription(input: {
    user_id: number;
    telegram_payment_charge_id: string;
    is_canceled: boolean;
  }): Promise<true>;
  getStarTransactions(input: {
    offset?: number;
    limit?: number;
  }): Promise<{ transactions: StarTransaction[] }>;
}

/** What Telegram said to `refundStarPayment` (or to `editUserStarSubscription`). */
export type StarsCallResult =
  | { status: "done" }
  | { status: "refused"; error: string }
  | { status: "unknown"; error: string };

export type StarsAdminRefundOutcome =
  | {
      status: "refunded";
      paymentId: number;
      subscriptionId: number | null;
      auditId: number;
      notificationIds: string[];
    }
  | { status: "not_found" }
  | { status: "already_refunded" }
  | { status: "not_refundable"; paymentStatus: string }
  | { status: "provider_refused"; error: string }
  | { status: "provider_unknown"; error: string; auditId: number };

/**
 * refund a Stars payment (an admin's): under the payment's row lock, Telegram's `refundStarPayment`
 * (the Stars go back to the user), then the same record as Telegram's `refunded_payment` — payment
 * `reversed`, period taken back, audit row with the admin, the user's message — one transaction.
 * Telegram refusing writes nothing; an unclear answer writes a `payment.refund_unknown` audit row.
 */
export async function refundStarsPayment(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    paymentId: number;
    by: AuditBy;
    refund: (payment: { userId: number; telegramPaymentChargeId: string }) => Promise<StarsCallResult>;
  },
): Promise<StarsAdminRefundOutcome> {
  const payment = await lockPayment(tx, input.paymentId);
  if (!payment) return { status: "not_found" };
  if (payment.status === "reversed") return { status: "already_refunded" };
  if (payment.status !== "success" || payment.telegramPaymentChargeId === null)
    return { status: "not_refundable", paymentStatus: payment.status };
  const result = await input.refund({
    userId: payment.userId,
    telegramPaymentChargeId: payment.telegramPaymentChargeId,
  });
  if (result.status === "refused") return { status: "provider_refused", error: result.error };
  if (result.status === "unknown") {
    const auditId = await writeAudit(
      tx,
      {
        actor: input.by.actor,
        action: "payment.refund_unknown",
        entityType: "payment",
        entityId: payment.id,
        reason: input.by.reason,
        details: { ...input.by.details, provider: "telegram_stars", error: result.error },
      },
      deps.clock(),
    );
    return { status: "provider_unknown", error: result.error, auditId };
  }
  const recorded = await recordStarsRefund(tx, deps, {
    telegramPaymentChargeId: payment.telegramPaymentChargeId,
    actor: input.by.actor,
    reason: input.by.reason,
    details: { ...input.by.details, via_api: "refundStarPayment" },
  });
  if (recorded.status !== "refunded") return { status: "already_refunded" };
  return {
    status: "refunded",
    paymentId: payment.id,
    subscriptionId: payment.subscriptionId,
    auditId: recorded.auditId,
    notificationIds: recorded.notificationIds,
  };
}

export type StarsSubscriptionEditOutcome =
  | { status: "changed" }
  | { status: "unchanged" }
  | { status: "not_found" }
  | { status: "refused"; reason: "not_live" | "not_stars" }
  | { status: "provider_refused"; error: string };

/**
 * cancel / resume a Stars subscription (the user's /cancel and /resume on the stars rail): Telegram's
 * `editUserStarSubscription` (is_canceled), then `stars_canceled_at` and the audit row, under the
 * subscription's row lock. Access is untouched: a canceled one runs to its end date, then expires.
 */
export async function setStarsSubscriptionCanceled(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    subscriptionId: number;
    canceled: boolean;
    by: AuditBy;
    edit: (sub: { userId: number; starsChargeId: string; isCanceled: boolean }) => Promise<StarsCallResult>;
  },
): Promise<StarsSubscriptionEditOutcome> {
  const now = deps.clock();
  const sub = await lockSubscription(tx, input.subscriptionId);
  if (!sub) return { status: "not_found" };
  if (!isLive(sub)) return { status: "refused", reason: "not_live" };
  if (sub.rail !== "stars" || sub.starsChargeId === null) return { status: "refused", reason: "not_stars" };
  if ((sub.starsCanceledAt !== null) === input.canceled) return { status: "unchanged" };
  const result = await input.edit({
    userId: sub.userId,
    starsChargeId: sub.starsChargeId,
    isCanceled: input.canceled,
  });
  if (result.status !== "done") return { status: "provider_refused", error: result.error };
  await updateSubscription(tx, sub.id, {
    starsCanceledAt: input.canceled ? now : null,
    cancelledAt: input.canceled ? now : null,
    updatedAt: now,
  });
  // As on the card rail: the hosts hear premium.canceled (once per period; access stays until the
  // end). Turning renewal back on sends no event (docs/integration.md).
  if (input.canceled)
    await recordPremiumEvent(tx, deps, {
      type: "premium.canceled",
      subscriptionId: sub.id,
      period: sub.endDate,
    });
  await writeAudit(
    tx,
    {
      actor: input.by.actor,
      action: input.canceled ? "subscription.canceled" : "subscription.resumed",
      entityType: "subscription",
      entityId: sub.id,
      reason: input.by.reason,
      details: {
        ...input.by.details,
        rail: "stars",
        ...(input.canceled ? { accessUntil: sub.endDate.toISOString() } : {}),
      },
    },
    now,
  );
  return { status: "changed" };
}

/** A difference between our Stars payments and Telegram's `getStarTransactions`. */
export type StarsDiscrepancy =
  | { kind: "missing_here"; chargeId: string; telegramId: number | null; stars: number }
  | { kind: "missing_at_telegram"; chargeId: string; paymentId: number }
  | { kind: "amount_mismatch"; chargeId: string; paymentId: number; ours: number; telegram: number }
  | { kind: "refund_mismatch"; chargeId: string; paymentId: number; ours: string; telegramRefunded: boolean }
  /** A card took over renewing, and Telegram still did not confirm canceling the Stars renewal. */
  | { kind: "stars_renewal_not_canceled"; chargeId: string; subscriptionId: number; error: string };

/**
 * reconcile Stars: our `telegram_stars` payments against Telegram's transaction list. Telegram lists
 * a user's payment (source: user) under its charge id, and a refund to the user (receiver: user) under
 * the same id. Every charge we lack is money to grant or refund; every one Telegram lacks is a period
 * given for nothing; a refund on one side only is a state to settle.
 */
export function compareStarTransactions(
  ours: ReadonlyArray<{
    id: number;
    telegramPaymentChargeId: string | null;
    starsAmount: number | null;
    status: string;
  }>,
  theirs: ReadonlyArray<StarTransaction>,
): StarsDiscrepancy[] {
  const paid = new Map<string, StarTransaction>();
  const refunded = new Set<string>();
  for (const t of theirs) {
    if (t.source?.type === "user") paid.set(t.id, t);
    else if (t.receiver?.type === "user") refunded.add(t.id);
  }
  const found: StarsDiscrepancy[] = [];
  const known = new Set<string>();
  for (const p of ours) {
    if (!p.telegramPaymentChargeId) continue;
    known.add(p.telegramPaymentChargeId);
    const t = paid.get(p.telegramPaymentChargeId);
    if (!t) {
      found.push({ kind: "missing_at_telegram", chargeId: p.telegramPaymentChargeId, paymentId: p.id });
      continue;
    }
    if (p.starsAmount !== t.amount)
      found.push({
        kind: "amount_mismatch",
        chargeId: t.id,
        paymentId: p.id,
        ours: p.starsAmount ?? 0,
        telegram: t.amount,
      });
    const isRefunded = refunded.has(t.id);
    if ((p.status === "reversed") !== isRefunded)
      found.push({
        kind: "refund_mismatch",
        chargeId: t.id,
        paymentId: p.id,
        ours: p.status,
        telegramRefunded: isRefunded,
      });
  }
  for (const t of paid.values()) {
    if (!known.has(t.id))
      found.push({
        kind: "missing_here",
        chargeId: t.id,
        telegramId: t.source?.user?.id ?? null,
        stars: t.amount,
      });
  }
  return found;
}

/**
 * A subscription whose Stars renewal Telegram must still be told to stop: a card payment with
 * auto-renew moved it to the `card` rail (grantPurchasedPeriod) while its Stars subscription
 * (`stars_charge_id`) was never canceled at Telegram. That state is itself the durable record of the
 * debt: it survives a crash between the card payment's commit and the Telegram call, and reconcile
 * (`--stars`) lists every subscription left in it.
 */
export function owesStarsRenewalCancel(
  sub: Pick<Subscription, "rail" | "starsChargeId" | "starsCanceledAt" | "status">,
): boolean {
  return sub.rail === "card" && sub.starsChargeId !== null && sub.starsCanceledAt === null && isLive(sub);
}

export type StarsRenewalHandover =
  | { status: "nothing_owed" }
  | { status: "canceled"; auditId: number }
  /** Telegram refused or gave no clear answer: audited and an admin alert queued (retried by reconcile). */
  | {
      status: "failed";
      result: "refused" | "unknown";
      error: string;
      auditId: number;
      notificationIds: string[];
    };

/**
 * one subscription per user whatever the rail: after a card payment with auto-renew took over a
 * subscription Telegram renewed with Stars, cancel that Stars subscription's renewal at Telegram
 * (`editUserStarSubscription`, is_canceled true), under the subscription's row lock, in the
 * caller's own transaction (never the card payment's: Telegram is called after that commits).
 * Telegram agreeing sets `stars_canceled_at` and writes `subscription.stars_renewal_canceled`;
 * anything else writes `subscription.stars_cancel_failed` and an admin alert, and leaves the
 * subscription owing the cancel, so a later call (reconcile) tries again. Nothing owed: nothing done.
 */
export async function cancelStarsRenewalForCard(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    subscriptionId: number;
    actor: string;
    edit: (sub: { userId: number; starsChargeId: string }) => Promise<StarsCallResult>;
  },
): Promise<StarsRenewalHandover> {
  const sub = await lockSubscription(tx, input.subscriptionId);
  if (!sub || !owesStarsRenewalCancel(sub) || sub.starsChargeId === null) return { status: "nothing_owed" };
  const result = await input.edit({ userId: sub.userId, starsChargeId: sub.starsChargeId });
  const now = deps.clock();
  if (result.status === "done") {
    await updateSubscription(tx, sub.id, { starsCanceledAt: now, updatedAt: now });
    const auditId = await writeAudit(
      tx,
      {
        actor: input.actor,
        action: "subscription.stars_renewal_canceled",
        entityType: "subscription",
        entityId: sub.id,
        reason: "card auto-renew took over",
        details: { rail: "card", starsChargeId: sub.starsChargeId },
      },
      now,
    );
    return { status: "canceled", auditId };
  }
  const auditId = await writeAudit(
    tx,
    {
      actor: input.actor,
      action: "subscription.stars_cancel_failed",
      entityType: "subscription",
      entityId: sub.id,
      reason: "card auto-renew took over",
      details: { result: result.status, error: result.error, starsChargeId: sub.starsChargeId },
    },
    now,
  );
  const notificationId = await recordNotification(
    tx,
    {
      kind: "admin_alert",
      alert: "reconciliation",
      text: `Subscription ${sub.id} now renews by card, but Telegram did not confirm canceling its Stars subscription (charge ${sub.starsChargeId}): ${result.status}, ${result.error.slice(0, 300)}. Telegram may charge Stars for a period the card also pays: run pnpm reconcile --stars (it retries), or cancel it by hand.`,
    },
    `stars-cancel-failed-${sub.id}-${auditId}`,
    now,
  );
  return {
    status: "failed",
    result: result.status,
    error: result.error,
    auditId,
    notificationIds: [notificationId],
  };
}
