import {
  type DbOrTx,
  type NewPayment,
  type Payment,
  type PaymentSession,
  pipelined,
  type RenewalAttempt,
  type Transaction,
} from "@obuna/db";
import {
  completeSession,
  deactivateCardAfterHardDecline,
  failSession,
  findAcceptedOffer,
  firstDeclineAt,
  getPlanById,
  insertPayment,
  lockPayment,
  lockRenewalAttempt,
  lockSession,
  lockSubscription,
  lockSubscriptionForRenewal,
  markCardUsed,
  markPaymentReversed,
  nextPaymentId,
  recordNotification,
  sessionPaymentKey,
  setSessionPaymentStatus,
  updateOpenRenewalAttempt,
  updateRenewalAttempt,
  upsertPaymentByKey,
} from "@obuna/db/queries";
import { writeAudit } from "./audit";
import type { AuditBy, BillingDeps } from "./deps";
import {
  expireSubscription,
  extendForRenewal,
  grantPurchasedPeriod,
  markPastDue,
  type PeriodTaken,
  renewalRefusal,
  takeBackPeriod,
} from "./subscriptions";

/**
 * The payment state machine (docs/architecture.md):
 *
 *   pending ─charge confirmed─▶ success ─refund─▶ reversed
 *      │ └─answer lost─▶ unknown ─provider says confirmed─▶ success
 *      │                    └────provider says closed/reversed─▶ failed
 *      └─declined / closed─▶ failed
 *
 * A first payment belongs to a payment session (its row keyed `session:<id>`); a renewal to a
 * renewal attempt (one row per attempt). Completing either extends the subscription through the
 * one paid-period rule in subscriptions.ts. Each function runs in the caller's transaction and
 * returns the outbox job ids it recorded, for the caller to flush after the commit.
 */

const DAY_MS = 86_400_000;

/** A charge the provider reports confirmed. */
export interface ConfirmedCharge {
  /** The provider's id of the charge (ATMOS transaction_id, as text). */
  externalId: string;
  /** The provider's id of the settled charge (ATMOS success_trans_id, as text): needed to refund. */
  settlementId: string | null;
  /** Fiscal receipt link; null = charged without a receipt (shown in admin and reconcile). */
  receiptUrl: string | null;
}

// ------------------------------------------------------------------ first payment (session)

export type SessionCompletion =
  | {
      status: "completed";
      userId: number;
      paymentId: number;
      subscriptionId: number;
      subscription: "started" | "extended";
      boundCardId: number | null;
      notificationIds: string[];
    }
  | { status: "already_completed" }
  | { status: "not_found" };

/**
 * complete a first payment, exactly once per session (the locked session row decides), in the
 * caller's transaction: the session's card made the user's (`activateCard`, the cards part of the
 * core: returns the user's card only if the provider charged the card this session bound), the
 * subscription started or extended, the payment row `success` with its period, the user premium,
 * the session completed, the audit row, and the user's "payment succeeded" message in the outbox.
 * A unique violation (two first payments of one user racing to start a subscription) is thrown:
 * the caller retries the transaction, which then extends the other's subscription.
 */
export async function completeSessionPayment(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    sessionId: string;
    charge: ConfirmedCharge;
    /** Which path saw the success: apply, callback, reconcile. */
    source: string;
    actor: string;
    activateCard: (session: PaymentSession, now: Date) => Promise<number | null>;
  },
): Promise<SessionCompletion> {
  const now = deps.clock();
  const session = await lockSession(tx, input.sessionId);
  if (!session) return { status: "not_found" };
  if (session.status === "completed") return { status: "already_completed" };
  const plan = await getPlanById(tx, session.planId);
  if (!plan) throw new Error(`plan ${session.planId} missing`);

  const boundCardId = await input.activateCard(session, now);
  const granted = await grantPurchasedPeriod(tx, deps, {
    userId: session.userId,
    plan,
    paidAmount: session.amount,
    renewWithCardId: session.autoRenew ? boundCardId : null,
  });
  const { subscriptionId, period } = granted;

  const values = {
    status: "success" as const,
    subscriptionId,
    boundCardId,
    externalId: input.charge.externalId,
    settlementId: input.charge.settlementId,
    cardMasked: session.cardMasked,
    errorCode: null,
    errorMessage: null,
    receiptUrl: input.charge.receiptUrl,
    periodStart: period.start,
    periodEnd: period.end,
    offerVersion: session.offerVersion,
    offerAcceptedAt: session.offerAcceptedAt,
    updatedAt: now,
  };
  const paymentId = await upsertSessionPayment(tx, session, values, now);
  await completeSession(tx, session.id, { now, dropBindingToken: boundCardId !== null });
  await writeAudit(
    tx,
    {
      actor: input.actor,
      action: "payment.succeeded",
      entityType: "payment",
      entityId: paymentId,
      reason: input.source,
      details: {
        sessionId: session.id,
        subscriptionId,
        transactionId: input.charge.externalId,
        amount: session.amount,
        receipt: input.charge.receiptUrl !== null,
      },
    },
    now,
  );
  const notificationId = await recordNotification(
    tx,
    { kind: "payment_succeeded", userId: session.userId, paymentId, subscriptionId },
    paymentId,
    now,
  );
  return {
    status: "completed",
    userId: session.userId,
    paymentId,
    subscriptionId,
    subscription: granted.status,
    boundCardId,
    notificationIds: [notificationId],
  };
}

function upsertSessionPayment(
  tx: Transaction,
  session: PaymentSession,
  values: Partial<Omit<NewPayment, "id" | "idempotencyKey">>,
  now: Date,
) {
  return upsertPaymentByKey(
    tx,
    {
      ...values,
      userId: session.userId,
      sessionId: session.id,
      kind: "initial",
      amount: session.amount,
      idempotencyKey: sessionPaymentKey(session.id),
      createdAt: now,
    },
    values,
  );
}

export type SessionFailure = { status: "failed" } | { status: "unchanged" };

/**
 * fail a first payment: the session (pending or processing) and its payment row (never a success)
 * end `failed`. With `audit`, the failure is also written to the audit log.
 */
export async function failSessionPayment(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    sessionId: string;
    reason: string;
    message: string;
    otpAttempts?: number;
    audit?: AuditBy & { details?: Record<string, unknown> };
  },
): Promise<SessionFailure> {
  const now = deps.clock();
  const changed = await failSession(tx, input.sessionId, {
    reason: input.reason,
    now,
    ...(input.otpAttempts === undefined ? {} : { otpAttempts: input.otpAttempts }),
  });
  if (!changed) return { status: "unchanged" };
  await setSessionPaymentStatus(tx, input.sessionId, {
    status: "failed",
    errorCode: input.reason,
    errorMessage: input.message,
    now,
  });
  if (input.audit) {
    await writeAudit(
      tx,
      {
        actor: input.audit.actor,
        action: "payment_session.failed",
        entityType: "payment_session",
        entityId: input.sessionId,
        reason: input.audit.reason,
        ...(input.audit.details ? { details: input.audit.details } : {}),
      },
      now,
    );
  }
  return { status: "failed" };
}

/** mark unknown (first payment): the charge may or may not have happened; the provider decides later. */
export async function markSessionPaymentUnknown(db: DbOrTx, deps: BillingDeps, input: { sessionId: string }) {
  await setSessionPaymentStatus(db, input.sessionId, {
    status: "unknown",
    errorCode: "outcome_unknown",
    now: deps.clock(),
  });
}

// ------------------------------------------------------------------ resolve (what the provider says)

/** A provider payment's state, in ATMOS's words or the PaymentProvider port's. */
export type ChargeState =
  | "created"
  | "pre_applied"
  | "awaiting_confirmation"
  | "confirmed"
  | "reversed"
  | "closed";

export type SessionResolution =
  | { next: "complete" }
  | { next: "fail"; reason: "transaction_reversed" | "transaction_closed"; message: string }
  | { next: "wait" };

/**
 * resolve a first payment whose outcome we did not know: only `confirmed` is a success; reversed
 * (paid, then refunded by the provider) and closed fail the session; anything else is still open.
 */
export function resolveSessionCharge(state: ChargeState | null): SessionResolution {
  if (state === "confirmed") return { next: "complete" };
  if (state === "reversed")
    return { next: "fail", reason: "transaction_reversed", message: "ATMOS reversed the payment" };
  if (state === "closed")
    return {
      next: "fail",
      reason: "transaction_closed",
      message: "ATMOS closed the transaction without payment",
    };
  return { next: "wait" };
}

/** After this many checks a charge the provider still shows as created/pre-applied is given up as not charged. */
export const MAX_ATTEMPT_CHECKS_IN_FLIGHT = 3;

export type AttemptResolution =
  | { next: "complete" }
  | { next: "fail"; failure: RenewalFailure; giveUp: boolean }
  | { next: "wait" };

/**
 * resolve a renewal attempt whose outcome we did not know, from the provider's state: confirmed →
 * success; closed or reversed → failed (a decline only if the charge had been sent, i.e. the attempt
 * was `unknown`); still open after the third check → not charged (no apply is in flight any more).
 */
export function resolveAttemptCharge(
  attempt: Pick<RenewalAttempt, "status" | "checkCount">,
  charge: { state: ChargeState; statusCode: string | null; statusMessage: string | null },
): AttemptResolution {
  if (charge.state === "confirmed") return { next: "complete" };
  if (charge.state === "closed" || charge.state === "reversed") {
    return {
      next: "fail",
      giveUp: false,
      failure: {
        code:
          charge.state === "reversed"
            ? "ATMOS_REVERSED"
            : (charge.statusCode ?? `ATMOS_${charge.state.toUpperCase()}`),
        message: charge.statusMessage ?? `transaction ${charge.state}`,
        kind: "declined",
        isDecline: attempt.status === "unknown",
        hardDecline: false,
      },
    };
  }
  if (attempt.checkCount + 1 >= MAX_ATTEMPT_CHECKS_IN_FLIGHT) {
    return {
      next: "fail",
      giveUp: true,
      failure: {
        code: "NOT_CHARGED:never_applied",
        message: `transaction still ${charge.state} after ${attempt.checkCount + 1} checks`,
        kind: null,
        isDecline: false,
        hardDecline: false,
      },
    };
  }
  return { next: "wait" };
}

// ------------------------------------------------------------------ renewal (attempt)

/** `renewal:<sub>:<periodEndMs>:<attempt>`: one payment row per attempt, whoever records it. */
export function renewalIdempotencyKey(
  attempt: Pick<RenewalAttempt, "subscriptionId" | "periodEnd" | "attemptNumber">,
) {
  return `renewal:${attempt.subscriptionId}:${attempt.periodEnd.getTime()}:${attempt.attemptNumber}`;
}

export type RenewalCompletion =
  | {
      status: "completed";
      paymentId: number;
      /** False: money moved for a period the subscription had left; an operator reviews it. */
      extended: boolean;
      newEndDate: Date | null;
      notificationIds: string[];
    }
  | { status: "already_resolved" };

/**
 * complete a renewal, exactly once per attempt (its row lock decides): the payment row, the period
 * paid (`extendForRenewal`: from the renewed end date, not from now), the card's last use, the
 * attempt `success`, the audit row, and the user's receipt (or an operator's review when the period
 * could not be extended) in the outbox. A second confirmed charge for an already paid period is
 * refused by the one-success-per-period index (a unique violation): the caller then holds it with
 * `holdDuplicatePeriodCharge` in a new transaction.
 */
export async function completeRenewalPayment(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    attemptId: number;
    charge: ConfirmedCharge;
    /** The attempt's subscription (the worker and the janitor hold the attempt): refused if it is not. */
    subscriptionId: number;
  },
): Promise<RenewalCompletion> {
  const now = deps.clock();
  // The attempt (locked), then the subscription (locked) with its plan and card (docs/benchmarks.md,
  // renewals), the public offer its first accepted payment agreed to (a renewal carries it) and the
  // new payment's id: sent together in that order (`pipelined`, one round trip).
  const [attempt, locked, offer, paymentId] = await pipelined([
    lockRenewalAttempt(tx, input.attemptId),
    lockSubscriptionForRenewal(tx, input.subscriptionId),
    findAcceptedOffer(tx, input.subscriptionId),
    nextPaymentId(tx),
  ]);
  if (!attempt || (attempt.status !== "pending" && attempt.status !== "unknown")) {
    return { status: "already_resolved" };
  }
  if (attempt.subscriptionId !== locked?.subscription.id)
    throw new Error(`renewal attempt ${attempt.id} is not of subscription ${input.subscriptionId}`);
  const { subscription: sub, plan, card, telegramId } = locked!;
  const period = {
    start: attempt.periodEnd,
    end: new Date(attempt.periodEnd.getTime() + plan.durationDays * DAY_MS),
  };
  // The user turned auto-renew off or removed the card after the charge was sent (a cancel that
  // commits first stops the charge: claimChargeSend). The charge is honoured and they are told so.
  const cancelledInFlight = !sub.autoRenew || !card?.isActive || card.removedAt !== null;
  // Whether the period extends the subscription is known from the locked row before any write.
  const extended = renewalRefusal(sub, period) === null;
  // Every write depends only on what is known now (the payment's id included): they are sent together
  // (`pipelined`: run in this order, the payment row first, one round trip instead of one each). Any
  // failure (a second success for the period refused by its unique key) rolls the whole transaction back.
  const [, extension, , , , notificationId] = await pipelined([
    insertPayment(tx, {
      id: paymentId,
      userId: sub.userId,
      subscriptionId: sub.id,
      boundCardId: card?.id ?? null,
      kind: "renewal",
      status: "success",
      amount: attempt.amount,
      externalId: input.charge.externalId,
      settlementId: input.charge.settlementId,
      cardMasked: card?.panMasked ?? null,
      receiptUrl: input.charge.receiptUrl,
      idempotencyKey: renewalIdempotencyKey(attempt),
      periodStart: period.start,
      periodEnd: period.end,
      offerVersion: offer?.version ?? null,
      offerAcceptedAt: offer?.acceptedAt ?? null,
      createdAt: now,
      updatedAt: now,
    }),
    extendForRenewal(tx, deps, { subscription: sub, period, holder: { planSlug: plan.slug, telegramId } }),
    card ? markCardUsed(tx, card.id, now) : undefined,
    updateRenewalAttempt(tx, attempt.id, {
      status: "success",
      paymentId,
      externalId: input.charge.externalId,
      nextCheckAt: null,
      resolvedAt: now,
      updatedAt: now,
    }),
    writeAudit(
      tx,
      {
        actor: "renewals",
        action: extended ? "renewal.succeeded" : "renewal.charged_without_extension",
        entityType: "subscription",
        entityId: sub.id,
        reason: extended ? null : `subscription is ${sub.status} with end_date ${sub.endDate.toISOString()}`,
        details: {
          attemptId: attempt.id,
          paymentId,
          transactionId: input.charge.externalId,
          amount: attempt.amount,
        },
      },
      now,
    ),
    extended
      ? recordNotification(
          tx,
          {
            kind: cancelledInFlight ? "renewal_charged_after_cancel" : "renewal_succeeded",
            userId: sub.userId,
            paymentId,
            subscriptionId: sub.id,
          },
          paymentId,
          now,
        )
      : recordNotification(
          tx,
          {
            kind: "admin_alert",
            alert: "reconciliation",
            text: `Renewal attempt ${attempt.id} was charged (payment ${paymentId}) but subscription ${sub.id} could not be extended; review and refund if needed.`,
          },
          `renewal-unextended-${attempt.id}`,
          now,
        ),
  ]);
  if ((extension.status === "extended") !== extended) throw new Error("renewal extension decided twice");
  return {
    status: "completed",
    paymentId,
    extended,
    newEndDate: extended ? period.end : null,
    notificationIds: [notificationId],
  };
}

/**
 * A second confirmed charge for a renewal period that already has a successful payment (a double
 * charge): never a second grant. The attempt is held `unknown` without a next check (the janitor
 * leaves it; the hourly alert and `pnpm reconcile` show it) and an operator is told to refund it.
 */
export async function holdDuplicatePeriodCharge(
  tx: Transaction,
  deps: BillingDeps,
  input: { attemptId: number; externalId: string },
): Promise<{ status: "held"; notificationIds: string[] } | { status: "already_resolved" }> {
  const now = deps.clock();
  const attempt = await lockRenewalAttempt(tx, input.attemptId);
  if (!attempt || (attempt.status !== "pending" && attempt.status !== "unknown"))
    return { status: "already_resolved" };
  await updateRenewalAttempt(tx, attempt.id, {
    status: "unknown",
    externalId: input.externalId,
    errorCode: "DUPLICATE_PERIOD_CHARGE",
    errorMessage: "ATMOS confirmed a charge for a period that already has a successful payment",
    nextCheckAt: null,
    updatedAt: now,
  });
  const notificationId = await recordNotification(
    tx,
    {
      kind: "admin_alert",
      alert: "reconciliation",
      text: `Renewal attempt ${attempt.id}: ATMOS transaction ${input.externalId} was confirmed but subscription ${attempt.subscriptionId} already has a successful payment for this period (double charge). Refund it.`,
    },
    `renewal-duplicate-${attempt.id}`,
    now,
  );
  return { status: "held", notificationIds: [notificationId] };
}

export interface RenewalFailure {
  /** Provider result code or our own (`NOT_CHARGED:…`), stored on the attempt. */
  code: string;
  message: string;
  /** Provider error kind, shown to the bot. */
  kind: string | null;
  /** A decline by the card: counts against the retry schedule. False = nothing was charged for our own reason. */
  isDecline: boolean;
  /** Expired/blocked/unknown card: no retries, ask for a new card. */
  hardDecline: boolean;
  /**
   * Janitor only: apply this failure only if, under the row lock, the attempt still has no provider
   * transaction (a worker that recorded one in the meantime is alive and may charge).
   */
  onlyIfNoTransaction?: boolean;
}

/** When a declined renewal is tried again, and how long access lasts meanwhile. */
export interface RetryPolicy {
  /** Past due keeps access this long after the end date (or after now, if later). */
  graceMs: number;
  /** Retry n comes this long after the period's first decline. */
  retryOffsetsMs: readonly number[];
}

export type RenewalFailureOutcome =
  | { status: "not_charged" }
  | {
      status: "declined";
      nextAttemptAt: Date | null;
      expired: boolean;
      hardDecline: boolean;
      notificationIds: string[];
    }
  | { status: "already_resolved" };

/**
 * fail a renewal attempt, exactly once. A decline makes the subscription past_due with grace and
 * plans the next retry; a hard decline also takes the card out of renewals and plans none; a decline
 * after the last retry (or whose next retry would fall after the grace period) expires the
 * subscription. The user is told of the decline (and of the expiry it caused) through the outbox.
 */
export async function failRenewalAttempt(
  tx: Transaction,
  deps: BillingDeps,
  input: { attemptId: number; failure: RenewalFailure; policy: RetryPolicy },
): Promise<RenewalFailureOutcome> {
  const now = deps.clock();
  const { failure, policy } = input;
  const attempt = await lockRenewalAttempt(tx, input.attemptId);
  if (!attempt || (attempt.status !== "pending" && attempt.status !== "unknown")) {
    return { status: "already_resolved" };
  }
  if (failure.onlyIfNoTransaction && attempt.externalId !== null) return { status: "already_resolved" };
  await updateRenewalAttempt(tx, attempt.id, {
    status: "failed",
    errorCode: failure.code.slice(0, 64),
    errorMessage: failure.message.slice(0, 500),
    nextCheckAt: null,
    resolvedAt: now,
    updatedAt: now,
  });
  if (!failure.isDecline) return { status: "not_charged" };

  const sub = (await lockSubscription(tx, attempt.subscriptionId))!;
  const live = sub.status === "active" || sub.status === "past_due";
  if (!live || sub.endDate.getTime() !== attempt.periodEnd.getTime()) return { status: "not_charged" };

  const declines = sub.renewalAttempts + 1;
  const graceUntil =
    sub.graceUntil ?? new Date(Math.max(now.getTime(), sub.endDate.getTime()) + policy.graceMs);
  const firstDecline = (await firstDeclineAt(tx, attempt)) ?? now;
  const offset = failure.hardDecline ? undefined : policy.retryOffsetsMs[declines - 1];
  let nextAttemptAt = offset === undefined ? null : new Date(firstDecline.getTime() + offset);
  if (nextAttemptAt && nextAttemptAt >= graceUntil) nextAttemptAt = null;
  const expire = !failure.hardDecline && nextAttemptAt === null;

  if (failure.hardDecline && sub.boundCardId) await deactivateCardAfterHardDecline(tx, sub.boundCardId, now);
  // The user is told of the decline first, then (when it ends access) of the expiry.
  const notificationIds = [
    await recordNotification(
      tx,
      {
        kind: "renewal_failed",
        userId: sub.userId,
        subscriptionId: sub.id,
        hardDecline: failure.hardDecline,
        nextAttemptAt: nextAttemptAt?.toISOString() ?? null,
        errorKind: failure.kind,
      },
      attempt.id,
      now,
    ),
  ];
  if (expire) {
    const expired = await expireSubscription(tx, deps, {
      subscription: sub,
      reason: `renewal declined ${declines} time(s), no retry left (${failure.code})`,
      noticeKey: attempt.id,
    });
    if (expired.status === "expired") notificationIds.push(...expired.notificationIds);
  } else {
    await markPastDue(tx, deps, {
      subscription: sub,
      declines,
      graceUntil,
      nextAttemptAt,
      code: failure.code,
      hardDecline: failure.hardDecline,
      attemptId: attempt.id,
    });
  }
  return {
    status: "declined",
    nextAttemptAt,
    expired: expire,
    hardDecline: failure.hardDecline,
    notificationIds,
  };
}

/** Janitor backoff for unknown outcomes (Kill Bill's): 5 min, 1 h, then daily. */
export function nextCheckDelayMs(checkCount: number): number {
  if (checkCount <= 0) return 5 * 60_000;
  if (checkCount === 1) return 3_600_000;
  return DAY_MS;
}

/** mark unknown (renewal): the charge may have been sent; the janitor asks the provider from the next check on. */
export async function markAttemptUnknown(
  db: DbOrTx,
  deps: BillingDeps,
  input: { attemptId: number; externalId: string; code: string; message: string },
) {
  const now = deps.clock();
  await updateOpenRenewalAttempt(db, input.attemptId, {
    status: "unknown",
    externalId: input.externalId,
    errorCode: input.code.slice(0, 64),
    errorMessage: input.message.slice(0, 500),
    nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(0)),
    updatedAt: now,
  });
}

/** The janitor could not decide yet: the attempt stays (or becomes) `unknown`, asked again later. */
export async function rescheduleAttemptCheck(
  db: DbOrTx,
  deps: BillingDeps,
  input: { attempt: Pick<RenewalAttempt, "id" | "checkCount">; note: string },
) {
  const now = deps.clock();
  const checks = input.attempt.checkCount + 1;
  await updateOpenRenewalAttempt(db, input.attempt.id, {
    // A stale pending attempt with a transaction becomes unknown: apply may have been sent.
    status: "unknown",
    checkCount: checks,
    nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(checks)),
    errorMessage: input.note.slice(0, 500),
    updatedAt: now,
  });
}

// ------------------------------------------------------------------ refund

/** What the provider's reverse did, as the caller found out (asking `get` when the answer was unclear). */
export type ReverseResult =
  | { status: "reversed" }
  | { status: "not_reversed"; error: unknown }
  | { status: "unknown"; error: string };

export type RefundOutcome =
  | {
      status: "refunded";
      auditId: number;
      subscriptionId: number | null;
      period: PeriodTaken | null;
      notificationIds: string[];
    }
  | { status: "not_found" }
  | { status: "already_refunded"; reversedAt: Date | null }
  | { status: "not_refundable"; paymentStatus: Payment["status"] }
  | { status: "provider_refused"; error: unknown }
  | { status: "provider_unknown"; externalId: string | null; error: string };

/**
 * refund a successful payment, under its row lock (a second refund waits, then sees `reversed`):
 * the provider's reverse (`reverse`, called with the locked row), then the payment `reversed`, the
 * subscription loses the payment's period (expired when that ends its access), the audit row and
 * the user's message — one transaction. An unclear provider answer marks nothing reversed
 * (`provider_unknown`; record it with `recordRefundUnknown`).
 */
export async function refundPayment(
  tx: Transaction,
  deps: BillingDeps,
  input: {
    paymentId: number;
    by: AuditBy;
    reverse: (payment: Payment & { settlementId: string }) => Promise<ReverseResult>;
  },
): Promise<RefundOutcome> {
  const payment = await lockPayment(tx, input.paymentId);
  if (!payment) return { status: "not_found" };
  if (payment.status === "reversed") return { status: "already_refunded", reversedAt: payment.reversedAt };
  if (payment.status !== "success" || payment.settlementId === null)
    return { status: "not_refundable", paymentStatus: payment.status };
  const reversed = await input.reverse({ ...payment, settlementId: payment.settlementId });
  if (reversed.status === "unknown")
    return { status: "provider_unknown", externalId: payment.externalId, error: reversed.error };
  if (reversed.status === "not_reversed") return { status: "provider_refused", error: reversed.error };

  const now = deps.clock();
  await markPaymentReversed(tx, payment.id, { reason: input.by.reason, now });
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
      actor: input.by.actor,
      action: "payment.refunded",
      entityType: "payment",
      entityId: payment.id,
      reason: input.by.reason,
      details: {
        ...input.by.details,
        amount: payment.amount,
        transactionId: payment.externalId,
        successTransId: payment.settlementId,
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
  return {
    status: "refunded",
    auditId,
    subscriptionId: payment.subscriptionId,
    period,
    notificationIds: [notificationId],
  };
}

/** A refund whose outcome the provider left unclear: nothing changed, but the attempt is on record. */
export async function recordRefundUnknown(
  tx: Transaction,
  deps: BillingDeps,
  input: { paymentId: number; by: AuditBy; externalId: string | null; error: string },
) {
  return writeAudit(
    tx,
    {
      actor: input.by.actor,
      action: "payment.refund_unknown",
      entityType: "payment",
      entityId: input.paymentId,
      reason: input.by.reason,
      details: { ...input.by.details, transactionId: input.externalId, atmosError: input.error },
    },
    deps.clock(),
  );
}
