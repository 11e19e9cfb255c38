import { type DbOrTx, type Plan, pipelined, type Subscription, type Transaction } from "@obuna/db";
import {
  extendedEndDate,
  getBoundCard,
  hasOpenAttempt,
  insertSubscription,
  lockLiveSubscription,
  lockSubscription,
  recordNotification,
  setUserRole,
  updateSubscription,
} from "@obuna/db/queries";
import { writeAudit } from "./audit";
import type { AuditBy, BillingDeps } from "./deps";
import { recordPremiumEvent } from "./events";

/**
 * The subscription state machine (docs/architecture.md):
 *
 *   (none) ─start─▶ active ─decline─▶ past_due ─grace over / no retry left─▶ expired
 *                     ▲  └─end date passed, no renewal─▶ expired          │
 *                     └──────────── paid period (renewal, purchase) ◀────┘
 *   active|past_due ─admin cancel─▶ canceled       active|past_due ─refund takes the last period─▶ expired
 *
 * Auto-renew is a flag on a live subscription: `stopAutoRenew` (the user's cancel) and
 * `resumeAutoRenew` change it without touching access. Every transition runs in the caller's
 * transaction, writes its audit row there, and returns the outbox job ids it recorded for the
 * caller to flush after the commit. No transition throws for a refused move: it says so.
 */

const DAY_MS = 86_400_000;
/** How long past its end a Stars-renewed subscription waits for Telegram's recurring payment. */
export const STARS_RENEWAL_GRACE_MS = DAY_MS;

/** `active` and `past_due` give access (and `is_active` says so). */
export function isLive(sub: Pick<Subscription, "status">): boolean {
  return sub.status === "active" || sub.status === "past_due";
}

export interface Period {
  start: Date;
  end: Date;
}

/**
 * The one place a paid period is applied to a live subscription (a first payment onto a live one, a
 * renewal): end date moved, active again, retry counters and grace cleared, premium role (an admin
 * stays admin). `extra` carries what only that path sets.
 */
async function applyPaidPeriod(
  tx: DbOrTx,
  sub: Pick<Subscription, "id" | "userId">,
  end: Date,
  now: Date,
  extra: Partial<Omit<Subscription, "id" | "userId" | "isActive" | "createdAt">>,
) {
  const written = {
    ...extra,
    endDate: end,
    status: "active" as const,
    renewalAttempts: 0,
    renewalError: null,
    graceUntil: null,
    nextRenewalAt: null,
    updatedAt: now,
  };
  // Two independent writes, sent together (`pipelined`: one round trip, run in this order).
  await pipelined([updateSubscription(tx, sub.id, written), setUserRole(tx, sub.userId, "premium")]);
  return written;
}

/**
 * What a purchase sets as the subscription's renewal price (docs/plans.md): the amount paid. When
 * the list price changed while the session was open, the paid (older) price is kept and the list
 * price is pending, so the subscriber is told before the first renewal at it.
 */
function purchasedRenewalPrice(paid: number, listPrice: number, now: Date) {
  const pending = paid !== listPrice;
  return {
    renewalPrice: pending ? paid : null,
    newRenewalPrice: pending ? listPrice : null,
    newPriceSetAt: pending ? now : null,
    newPriceNoticeSentAt: null,
    newPriceFrom: null,
  };
}

export type PurchaseOutcome =
  | { status: "started"; subscriptionId: number; period: Period }
  | { status: "extended"; subscriptionId: number; period: Period };

/**
 * start / extend by a first payment: the user's live subscription gets the plan's duration after
 * the time they have left, or a new one starts now. With a card (`renewWithCardId`), auto-renew is on
 * with that card. Two concurrent purchases of one user: the one-live-per-user index refuses the
 * second insert (a unique violation the caller retries, which then extends).
 */
export async function grantPurchasedPeriod(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    userId: number;
    plan: Pick<Plan, "id" | "price" | "durationDays">;
    /** tiyin paid */
    paidAmount: number;
    renewWithCardId: number | null;
    /**
     * A Stars subscription (Telegram renews it): written with the period, before its premium event,
     * so the event says the rail that renews it. Excludes `renewWithCardId`.
     */
    starsSubscription?: { chargeId: string; expiresAt: Date | null };
  },
): Promise<PurchaseOutcome> {
  const now = deps.clock();
  const { plan, renewWithCardId } = input;
  // Telegram renews it from now on: never a card charge for the same period.
  const starsRail = input.starsSubscription
    ? {
        rail: "stars" as const,
        autoRenew: false,
        starsChargeId: input.starsSubscription.chargeId,
        starsExpiresAt: input.starsSubscription.expiresAt,
        starsCanceledAt: null,
      }
    : {};
  const live = await lockLiveSubscription(tx, input.userId);
  const period = extendedEndDate(live?.endDate ?? null, now, plan.durationDays);
  const price = purchasedRenewalPrice(input.paidAmount, plan.price, now);
  if (live) {
    await applyPaidPeriod(tx, live, period.end, now, {
      planId: plan.id,
      autoRenew: renewWithCardId !== null ? true : live.autoRenew,
      boundCardId: renewWithCardId ?? live.boundCardId,
      cancelledAt: renewWithCardId !== null ? null : live.cancelledAt,
      // A card with auto-renew takes over renewing (the Stars subscription must be canceled at Telegram).
      ...(renewWithCardId !== null ? { rail: "card" as const } : {}),
      ...starsRail,
      ...price,
    });
    await recordPremiumEvent(tx, deps, {
      type: "premium.renewed",
      subscriptionId: live.id,
      period: period.end,
    });
    return { status: "extended", subscriptionId: live.id, period };
  }
  const subscriptionId = await insertSubscription(tx, {
    userId: input.userId,
    planId: plan.id,
    status: "active",
    autoRenew: renewWithCardId !== null,
    startDate: period.start,
    endDate: period.end,
    boundCardId: renewWithCardId,
    ...price,
    ...starsRail,
    createdAt: now,
    updatedAt: now,
  });
  await setUserRole(tx, input.userId, "premium");
  await recordPremiumEvent(tx, deps, { type: "premium.started", subscriptionId, period: period.end });
  return { status: "started", subscriptionId, period };
}

/** Why a renewal's paid period cannot extend the subscription (null: it can), decided before any write. */
export function renewalRefusal(sub: Subscription, period: Period): "not_live" | "period_moved" | null {
  if (!isLive(sub)) return "not_live";
  if (sub.endDate.getTime() !== period.start.getTime()) return "period_moved";
  return null;
}

export type RenewalExtension =
  | { status: "extended" }
  | { status: "refused"; reason: "not_live" | "period_moved" };

/**
 * extend by a renewal: the period that ended at `period.start` is paid, so the subscription now ends
 * at `period.end`. Refused when the subscription left that period meanwhile (canceled, expired,
 * or already extended): the caller decides what the charge owes.
 */
export async function extendForRenewal(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    /** The subscription's row as locked in this transaction. */
    subscription: Subscription;
    period: Period;
    /** Its plan's slug and its holder's Telegram id, when the caller has them: the event needs no read. */
    holder?: { planSlug: string; telegramId: number };
  },
): Promise<RenewalExtension> {
  const { subscription: sub, period } = input;
  const refused = renewalRefusal(sub, period);
  if (refused) return { status: "refused", reason: refused };
  const now = deps.clock();
  const written = await applyPaidPeriod(tx, sub, period.end, now, { lastRenewalAttempt: now });
  await recordPremiumEvent(tx, deps, {
    type: "premium.renewed",
    subscriptionId: sub.id,
    period: period.end,
    // The locked row with what this change wrote over it is the row as the change left it.
    known: input.holder && { subscription: { ...sub, ...written }, ...input.holder },
  });
  return { status: "extended" };
}

export type GrantDaysOutcome =
  | {
      status: "extended";
      auditId: number;
      previousEndDate: Date;
      newEndDate: Date;
      notificationIds: string[];
    }
  | { status: "not_found" }
  | { status: "refused"; reason: "not_live"; current: Subscription["status"] };

/** extend by an operator (free days): end date + days; a past-due one whose new end is ahead is active again. */
export async function grantDays(
  tx: Transaction,
  deps: BillingDeps,
  input: { subscriptionId: number; days: number; by: AuditBy },
): Promise<GrantDaysOutcome> {
  const now = deps.clock();
  const sub = await lockSubscription(tx, input.subscriptionId);
  if (!sub) return { status: "not_found" };
  if (!isLive(sub)) return { status: "refused", reason: "not_live", current: sub.status };
  const newEnd = new Date(sub.endDate.getTime() + input.days * DAY_MS);
  const back = sub.status === "past_due" && newEnd > now;
  await updateSubscription(tx, sub.id, {
    endDate: newEnd,
    ...(back
      ? {
          status: "active" as const,
          graceUntil: null,
          renewalAttempts: 0,
          renewalError: null,
          nextRenewalAt: null,
        }
      : {}),
    updatedAt: now,
  });
  await setUserRole(tx, sub.userId, "premium");
  await recordPremiumEvent(tx, deps, { type: "premium.renewed", subscriptionId: sub.id, period: newEnd });
  const auditId = await writeAudit(
    tx,
    {
      actor: input.by.actor,
      action: "subscription.extended",
      entityType: "subscription",
      entityId: sub.id,
      reason: input.by.reason,
      details: {
        ...input.by.details,
        days: input.days,
        previousEndDate: sub.endDate.toISOString(),
        newEndDate: newEnd.toISOString(),
      },
    },
    now,
  );
  const notificationId = await recordNotification(
    tx,
    {
      kind: "subscription_extended",
      userId: sub.userId,
      subscriptionId: sub.id,
      days: input.days,
      endDate: newEnd.toISOString(),
    },
    auditId,
    now,
  );
  return {
    status: "extended",
    auditId,
    previousEndDate: sub.endDate,
    newEndDate: newEnd,
    notificationIds: [notificationId],
  };
}

/** past_due: a declined renewal; access continues until `graceUntil`, the next try at `nextAttemptAt`. */
export async function markPastDue(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    subscription: Subscription;
    declines: number;
    graceUntil: Date;
    nextAttemptAt: Date | null;
    code: string;
    hardDecline: boolean;
    attemptId: number;
  },
) {
  const now = deps.clock();
  const { subscription: sub } = input;
  await updateSubscription(tx, sub.id, {
    status: "past_due",
    graceUntil: input.graceUntil,
    nextRenewalAt: input.nextAttemptAt,
    renewalAttempts: input.declines,
    renewalError: input.code.slice(0, 64),
    lastRenewalAttempt: now,
    updatedAt: now,
  });
  // One per period: later declines of the same period keep it past due and record nothing new.
  await recordPremiumEvent(tx, deps, {
    type: "premium.past_due",
    subscriptionId: sub.id,
    period: sub.endDate,
  });
  await writeAudit(
    tx,
    {
      actor: "renewals",
      action: "renewal.declined",
      entityType: "subscription",
      entityId: sub.id,
      reason: input.code,
      details: {
        attemptId: input.attemptId,
        declines: input.declines,
        hardDecline: input.hardDecline,
        nextAttemptAt: input.nextAttemptAt,
        graceUntil: input.graceUntil,
      },
    },
    now,
  );
}

export type ExpiryOutcome =
  | { status: "expired"; notificationIds: string[] }
  | { status: "refused"; reason: "not_live" };

/**
 * expire: access ends, auto-renew off, no retry, role back to `user` (admins stay admins), audit
 * row, and the user's "subscription expired" message in the outbox (one per `noticeKey`).
 */
export async function expireSubscription(
  tx: Transaction,
  deps: BillingDeps,
  input: { subscription: Subscription; reason: string; noticeKey: string | number },
): Promise<ExpiryOutcome> {
  const { subscription: sub } = input;
  if (!isLive(sub)) return { status: "refused", reason: "not_live" };
  const now = deps.clock();
  await updateSubscription(tx, sub.id, {
    status: "expired",
    autoRenew: false,
    nextRenewalAt: null,
    graceUntil: null,
    updatedAt: now,
  });
  await setUserRole(tx, sub.userId, "user");
  await recordPremiumEvent(tx, deps, {
    type: "premium.ended",
    subscriptionId: sub.id,
    period: sub.endDate,
    reason: "expired",
  });
  await writeAudit(
    tx,
    {
      actor: "renewals",
      action: "subscription.expired",
      entityType: "subscription",
      entityId: sub.id,
      reason: input.reason,
      details: { endDate: sub.endDate, status: sub.status },
    },
    now,
  );
  const notificationId = await recordNotification(
    tx,
    { kind: "subscription_expired", userId: sub.userId, subscriptionId: sub.id },
    `${sub.id}-${input.noticeKey}`,
    now,
  );
  return { status: "expired", notificationIds: [notificationId] };
}

/**
 * expire by the clock (the maintenance job): under the row lock the subscription must still be in
 * the state that made it a candidate — `ended` (active, end date passed) or `grace` (past due, grace
 * over) — and no charge for its period may be pending or unknown (the janitor decides those first).
 */
export async function expireIfDue(
  tx: Transaction,
  deps: BillingDeps,
  input: { subscriptionId: number; check: "ended" | "grace" },
): Promise<ExpiryOutcome | { status: "not_due" }> {
  const now = deps.clock();
  const sub = await lockSubscription(tx, input.subscriptionId);
  if (!sub) return { status: "not_due" };
  if (input.check === "ended" && !(sub.status === "active" && sub.endDate <= now))
    return { status: "not_due" };
  // Telegram charges a live Stars subscription at its end and the recurring update comes a little
  // later: it keeps access for STARS_RENEWAL_GRACE_MS past the end before it is expired.
  if (
    input.check === "ended" &&
    sub.rail === "stars" &&
    sub.starsCanceledAt === null &&
    now.getTime() < sub.endDate.getTime() + STARS_RENEWAL_GRACE_MS
  )
    return { status: "not_due" };
  if (input.check === "grace" && !(sub.status === "past_due" && sub.graceUntil && sub.graceUntil <= now))
    return { status: "not_due" };
  if (await hasOpenAttempt(tx, sub.id, sub.endDate)) return { status: "not_due" };
  return expireSubscription(tx, deps, {
    subscription: sub,
    reason: input.check === "ended" ? "end date passed without renewal" : "grace period over",
    noticeKey: sub.endDate.getTime(),
  });
}

export type CancelNowOutcome =
  | { status: "canceled"; auditId: number; notificationIds: string[] }
  | { status: "not_found" }
  | { status: "refused"; reason: "not_live"; current: Subscription["status"] };

/** cancel by an operator: access ends now (`canceled`), auto-renew off, role back to `user`. */
export async function cancelNow(
  tx: Transaction,
  deps: BillingDeps,
  input: { subscriptionId: number; by: AuditBy },
): Promise<CancelNowOutcome> {
  const now = deps.clock();
  const sub = await lockSubscription(tx, input.subscriptionId);
  if (!sub) return { status: "not_found" };
  if (!isLive(sub)) return { status: "refused", reason: "not_live", current: sub.status };
  await updateSubscription(tx, sub.id, {
    status: "canceled",
    autoRenew: false,
    cancelledAt: now,
    nextRenewalAt: null,
    graceUntil: null,
    updatedAt: now,
  });
  await setUserRole(tx, sub.userId, "user");
  // Auto-renew off (deduped with a user's cancel of this period) and access ended.
  await recordPremiumEvent(tx, deps, {
    type: "premium.canceled",
    subscriptionId: sub.id,
    period: sub.endDate,
  });
  await recordPremiumEvent(tx, deps, {
    type: "premium.ended",
    subscriptionId: sub.id,
    period: sub.endDate,
    reason: "canceled",
  });
  const auditId = await writeAudit(
    tx,
    {
      actor: input.by.actor,
      action: "subscription.canceled",
      entityType: "subscription",
      entityId: sub.id,
      reason: input.by.reason,
      details: { ...input.by.details, previousStatus: sub.status, endDate: sub.endDate.toISOString() },
    },
    now,
  );
  const notificationId = await recordNotification(
    tx,
    { kind: "subscription_canceled_by_admin", userId: sub.userId, subscriptionId: sub.id },
    sub.id,
    now,
  );
  return { status: "canceled", auditId, notificationIds: [notificationId] };
}

export type AutoRenewOutcome =
  | { status: "changed" }
  | { status: "unchanged" }
  | { status: "not_found" }
  | { status: "refused"; reason: "not_live" | "no_usable_card" | "stars_renews" };

/**
 * cancel by the user: auto-renew off, access stays until the end date. Repeating it changes
 * nothing (and writes no audit row).
 */
export async function stopAutoRenew(
  tx: Transaction,
  deps: BillingDeps,
  input: { subscriptionId: number; by: AuditBy },
): Promise<AutoRenewOutcome> {
  const now = deps.clock();
  const sub = await lockSubscription(tx, input.subscriptionId);
  if (!sub) return { status: "not_found" };
  if (!isLive(sub)) return { status: "refused", reason: "not_live" };
  if (!sub.autoRenew && sub.cancelledAt !== null) return { status: "unchanged" };
  await updateSubscription(tx, sub.id, {
    autoRenew: false,
    cancelledAt: sub.cancelledAt ?? now,
    nextRenewalAt: null,
    updatedAt: now,
  });
  await recordPremiumEvent(tx, deps, {
    type: "premium.canceled",
    subscriptionId: sub.id,
    period: sub.endDate,
  });
  await writeAudit(
    tx,
    {
      actor: input.by.actor,
      action: "subscription.canceled",
      entityType: "subscription",
      entityId: sub.id,
      reason: input.by.reason,
      // The user's cancel keeps access: it only stops renewals (an operator's cancel ends access).
      details: { ...input.by.details, autoRenewOff: true, accessUntil: sub.endDate.toISOString() },
    },
    now,
  );
  return { status: "changed" };
}

/** resume: auto-renew back on; needs a live subscription and a usable saved card. */
export async function resumeAutoRenew(
  tx: Transaction,
  deps: BillingDeps,
  input: { subscriptionId: number; by: AuditBy },
): Promise<AutoRenewOutcome> {
  const now = deps.clock();
  const sub = await lockSubscription(tx, input.subscriptionId);
  if (!sub) return { status: "not_found" };
  if (!isLive(sub)) return { status: "refused", reason: "not_live" };
  // One rail renews: card auto-renew never comes back while Telegram still renews a Stars subscription.
  if (sub.rail === "stars" && sub.starsCanceledAt === null)
    return { status: "refused", reason: "stars_renews" };
  const card = sub.boundCardId ? await getBoundCard(tx, sub.boundCardId) : null;
  if (!card?.isActive || card.removedAt !== null) return { status: "refused", reason: "no_usable_card" };
  await updateSubscription(tx, sub.id, { autoRenew: true, cancelledAt: null, rail: "card", updatedAt: now });
  await writeAudit(
    tx,
    {
      actor: input.by.actor,
      action: "subscription.resumed",
      entityType: "subscription",
      entityId: sub.id,
      reason: input.by.reason,
      ...(input.by.details ? { details: input.by.details } : {}),
    },
    now,
  );
  return { status: "changed" };
}

export interface PeriodTaken {
  subscriptionId: number;
  previousEndDate: Date;
  newEndDate: Date;
  /** The refund ended access (the subscription was live and its new end date is past). */
  expired: boolean;
}

/**
 * take back a period (a refund): the end date moves back by the refunded period's length, never
 * before the start; when that ends a live subscription's access now, it is `expired` and the
 * premium role goes (an admin stays admin). Returns null when the subscription does not exist.
 */
export async function takeBackPeriod(
  tx: Transaction,
  deps: BillingDeps,
  input: { subscriptionId: number; period: Period },
): Promise<PeriodTaken | null> {
  const now = deps.clock();
  const sub = await lockSubscription(tx, input.subscriptionId);
  if (!sub) return null;
  const lengthMs = input.period.end.getTime() - input.period.start.getTime();
  const newEnd = new Date(Math.max(sub.endDate.getTime() - lengthMs, sub.startDate.getTime()));
  const ends = isLive(sub) && newEnd <= now;
  await updateSubscription(tx, sub.id, {
    endDate: newEnd,
    ...(ends ? { status: "expired" as const, nextRenewalAt: null, graceUntil: null } : {}),
    updatedAt: now,
  });
  if (ends) await setUserRole(tx, sub.userId, "user");
  await recordPremiumEvent(tx, deps, {
    type: "premium.refunded",
    subscriptionId: sub.id,
    period: `${input.period.start.getTime()}-${input.period.end.getTime()}`,
  });
  if (ends) {
    await recordPremiumEvent(tx, deps, {
      type: "premium.ended",
      subscriptionId: sub.id,
      period: sub.endDate,
      reason: "refunded",
    });
  }
  return { subscriptionId: sub.id, previousEndDate: sub.endDate, newEndDate: newEnd, expired: ends };
}
