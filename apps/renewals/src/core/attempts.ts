import type { AtmosTransaction } from "@obuna/atmos";
import type { Database, RenewalAttempt, Subscription } from "@obuna/db";
import {
  lockRenewalAttempt,
  lockSubscription,
  lockSubscriptionForRenewal,
  recordNotification,
  setUserRole,
} from "@obuna/db/queries";
import { auditLog, boundCards, payments, renewalAttempts, subscriptions } from "@obuna/db/schema";
import { and, asc, eq, isNotNull, sql } from "drizzle-orm";
import { isUniqueViolation, type RenewalContext } from "./deps";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

const DAY = 86_400_000;
/** Janitor backoff for unknown outcomes (Kill Bill's): 5 min, 1 h, then daily. */
export function nextCheckDelayMs(checkCount: number): number {
  if (checkCount <= 0) return 5 * 60_000;
  if (checkCount === 1) return 3_600_000;
  return DAY;
}

/** `renewal:<sub>:<periodEndMs>:<attempt>`: one payment row per attempt, whoever records it. */
export function renewalIdempotencyKey(
  attempt: Pick<RenewalAttempt, "subscriptionId" | "periodEnd" | "attemptNumber">,
) {
  return `renewal:${attempt.subscriptionId}:${attempt.periodEnd.getTime()}:${attempt.attemptNumber}`;
}

/**
 * The ATMOS `account` of a renewal charge: digits only (ATMOS expects a numeric account), unique per
 * attempt, and recognisable — renewal accounts start with 7 and are 13 digits long.
 */
export function renewalAccount(attemptId: number): string {
  return `7${String(attemptId).padStart(12, "0")}`;
}

export type SuccessResolution =
  | { status: "success"; paymentId: number; extended: boolean; newEndDate: Date | null }
  | { status: "already_resolved" };

/**
 * Applies a confirmed charge exactly once, in one transaction: payment row, subscription extended by
 * the plan's duration from the renewed end_date (not from now), counters reset, card last_used_at,
 * attempt success, audit row. Safe to call from the worker and the janitor concurrently.
 */
export async function resolveAttemptSuccess(
  ctx: RenewalContext,
  attemptId: number,
  atmosTx: Pick<AtmosTransaction, "transactionId" | "successTransId" | "ofdUrl">,
): Promise<SuccessResolution> {
  try {
    return await recordAttemptSuccess(ctx, attemptId, atmosTx);
  } catch (error) {
    // payments_one_success_per_renewal_period_key: this period is already paid, so ATMOS confirmed a
    // second charge for it. Never a second grant: the attempt is parked for an operator (refund).
    if (!isUniqueViolation(error)) throw error;
    await parkDuplicatePeriodCharge(ctx, attemptId, atmosTx.transactionId);
    return { status: "already_resolved" };
  }
}

async function parkDuplicatePeriodCharge(ctx: RenewalContext, attemptId: number, transactionId: number) {
  const now = ctx.clock();
  const notificationId = await ctx.db.transaction(async (tx) => {
    const attempt = await lockRenewalAttempt(tx, attemptId);
    if (!attempt || (attempt.status !== "pending" && attempt.status !== "unknown")) return null;
    // `unknown` without a next check: the janitor leaves it, the hourly alert and `pnpm reconcile` show it.
    await tx
      .update(renewalAttempts)
      .set({
        status: "unknown",
        transactionId,
        errorCode: "DUPLICATE_PERIOD_CHARGE",
        errorMessage: "ATMOS confirmed a charge for a period that already has a successful payment",
        nextCheckAt: null,
        updatedAt: now,
      })
      .where(eq(renewalAttempts.id, attempt.id));
    return recordNotification(
      tx,
      {
        kind: "admin_alert",
        alert: "reconciliation",
        text: `Renewal attempt ${attempt.id}: ATMOS transaction ${transactionId} was confirmed but subscription ${attempt.subscriptionId} already has a successful payment for this period (double charge). Refund it.`,
      },
      `renewal-duplicate-${attempt.id}`,
      now,
    );
  });
  ctx.logger.error({ attemptId, transactionId }, "second confirmed charge for a paid renewal period");
  if (notificationId) await ctx.flushNotifications([notificationId]);
}

async function recordAttemptSuccess(
  ctx: RenewalContext,
  attemptId: number,
  atmosTx: Pick<AtmosTransaction, "transactionId" | "successTransId" | "ofdUrl">,
): Promise<SuccessResolution> {
  const now = ctx.clock();
  const result = await ctx.db.transaction(async (tx) => {
    const attempt = await lockRenewalAttempt(tx, attemptId);
    if (!attempt || (attempt.status !== "pending" && attempt.status !== "unknown")) {
      return { status: "already_resolved" as const };
    }
    const { subscription: sub, plan, card } = (await lockSubscriptionForRenewal(tx, attempt.subscriptionId))!;
    const periodStart = attempt.periodEnd;
    const periodEnd = new Date(periodStart.getTime() + plan!.durationDays * DAY);
    // A renewal carries the public offer its subscription's first accepted payment agreed to.
    const [offer] = await tx
      .select({ version: payments.offerVersion, acceptedAt: payments.offerAcceptedAt })
      .from(payments)
      .where(
        and(
          eq(payments.subscriptionId, sub.id),
          eq(payments.kind, "initial"),
          isNotNull(payments.offerVersion),
        ),
      )
      .orderBy(asc(payments.id))
      .limit(1);
    const [payment] = await tx
      .insert(payments)
      .values({
        userId: sub.userId,
        subscriptionId: sub.id,
        boundCardId: card?.id ?? null,
        kind: "renewal",
        status: "success",
        amount: attempt.amount,
        transactionId: atmosTx.transactionId,
        successTransId: atmosTx.successTransId,
        cardMasked: card?.panMasked ?? null,
        // The fiscal receipt link (apply answer or get); null = charged without a receipt (admin, reconcile).
        receiptUrl: atmosTx.ofdUrl,
        idempotencyKey: renewalIdempotencyKey(attempt),
        periodStart,
        periodEnd,
        offerVersion: offer?.version ?? null,
        offerAcceptedAt: offer?.acceptedAt ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .returning({ id: payments.id });
    const live = sub.status === "active" || sub.status === "past_due";
    const extended = live && sub.endDate.getTime() === attempt.periodEnd.getTime();
    // The user turned auto-renew off or removed the card after the charge was sent (a cancel that
    // commits first stops the charge: claimChargeSend). The charge is honoured and they are told so.
    const cancelledInFlight = !sub.autoRenew || !card?.isActive || card.removedAt !== null;
    if (extended) {
      await tx
        .update(subscriptions)
        .set({
          endDate: periodEnd,
          status: "active",
          renewalAttempts: 0,
          renewalError: null,
          graceUntil: null,
          nextRenewalAt: null,
          lastRenewalAttempt: now,
          updatedAt: now,
        })
        .where(eq(subscriptions.id, sub.id));
      await setUserRole(tx, sub.userId, "premium");
    }
    if (card) await tx.update(boundCards).set({ lastUsedAt: now }).where(eq(boundCards.id, card.id));
    await tx
      .update(renewalAttempts)
      .set({
        status: "success",
        paymentId: payment!.id,
        transactionId: atmosTx.transactionId,
        nextCheckAt: null,
        resolvedAt: now,
        updatedAt: now,
      })
      .where(eq(renewalAttempts.id, attempt.id));
    await tx.insert(auditLog).values({
      actor: "renewals",
      action: extended ? "renewal.succeeded" : "renewal.charged_without_extension",
      entityType: "subscription",
      entityId: String(sub.id),
      reason: extended ? null : `subscription is ${sub.status} with end_date ${sub.endDate.toISOString()}`,
      details: {
        attemptId: attempt.id,
        paymentId: payment!.id,
        transactionId: atmosTx.transactionId,
        amount: attempt.amount,
      },
      createdAt: now,
    });
    // What the charge owes: the user's receipt, or an operator's review when the period could not be
    // extended. Recorded with the payment (outbox), handed to the queue after the commit.
    const notificationId = extended
      ? await recordNotification(
          tx,
          {
            kind: cancelledInFlight ? "renewal_charged_after_cancel" : "renewal_succeeded",
            userId: sub.userId,
            paymentId: payment!.id,
            subscriptionId: sub.id,
          },
          payment!.id,
          now,
        )
      : await recordNotification(
          tx,
          {
            kind: "admin_alert",
            alert: "reconciliation",
            text: `Renewal attempt ${attempt.id} was charged (payment ${payment!.id}) but subscription ${sub.id} could not be extended; review and refund if needed.`,
          },
          `renewal-unextended-${attempt.id}`,
          now,
        );
    return {
      status: "success" as const,
      paymentId: payment!.id,
      extended,
      newEndDate: extended ? periodEnd : null,
      notificationId,
    };
  });
  if (result.status === "success") {
    if (!result.extended) {
      // Money moved for a period we could not extend (the subscription changed meanwhile): an operator decides.
      ctx.logger.error(
        { attemptId, paymentId: result.paymentId },
        "renewal charged but subscription not extended",
      );
    }
    await ctx.flushNotifications([result.notificationId]);
    return {
      status: "success",
      paymentId: result.paymentId,
      extended: result.extended,
      newEndDate: result.newEndDate,
    };
  }
  return result;
}

export interface FailureInput {
  /** ATMOS result code or our own (`NOT_CHARGED`), stored on the attempt. */
  code: string;
  message: string;
  /** AtmosError kind, shown to the bot. */
  kind: string | null;
  /** A decline by the card: counts against the retry schedule. False = nothing was charged for our own reason. */
  isDecline: boolean;
  /** Expired/blocked/unknown card: no retries, ask for a new card. */
  hardDecline: boolean;
  /**
   * Janitor only: apply this failure only if, under the row lock, the attempt still has no ATMOS
   * transaction (a worker that recorded one in the meantime is alive and may charge).
   */
  onlyIfNoTransaction?: boolean;
}

export type FailureResolution =
  | { status: "not_charged" }
  | { status: "declined"; nextAttemptAt: Date | null; expired: boolean; hardDecline: boolean }
  | { status: "already_resolved" };

/** Earliest decline of the period: the retry schedule counts from it. */
async function firstDeclineAt(tx: Tx, attempt: RenewalAttempt): Promise<Date | null> {
  const [row] = await tx
    .select({
      at: sql<Date | null>`min(${renewalAttempts.resolvedAt})`.mapWith((v) => (v ? new Date(v) : null)),
    })
    .from(renewalAttempts)
    .where(
      sql`${renewalAttempts.subscriptionId} = ${attempt.subscriptionId} and ${renewalAttempts.periodEnd} = ${attempt.periodEnd.toISOString()}::timestamptz
        and ${renewalAttempts.status} = 'failed' and ${renewalAttempts.errorCode} not like 'NOT_CHARGED%'`,
    );
  return row?.at ?? null;
}

/**
 * Applies a failed attempt exactly once. A decline makes the subscription past_due with grace and
 * plans the next retry; a hard decline deactivates the card and plans none; a decline after the last
 * retry (or one whose next retry would fall after the grace period) expires the subscription.
 */
export async function resolveAttemptFailure(
  ctx: RenewalContext,
  attemptId: number,
  input: FailureInput,
): Promise<FailureResolution> {
  const now = ctx.clock();
  const result = await ctx.db.transaction(async (tx) => {
    const attempt = await lockRenewalAttempt(tx, attemptId);
    if (!attempt || (attempt.status !== "pending" && attempt.status !== "unknown")) {
      return { status: "already_resolved" as const };
    }
    if (input.onlyIfNoTransaction && attempt.transactionId !== null)
      return { status: "already_resolved" as const };
    await tx
      .update(renewalAttempts)
      .set({
        status: "failed",
        errorCode: input.code.slice(0, 64),
        errorMessage: input.message.slice(0, 500),
        nextCheckAt: null,
        resolvedAt: now,
        updatedAt: now,
      })
      .where(eq(renewalAttempts.id, attempt.id));
    if (!input.isDecline) return { status: "not_charged" as const };

    const sub = (await lockSubscription(tx, attempt.subscriptionId))!;
    const live = sub.status === "active" || sub.status === "past_due";
    if (!live || sub.endDate.getTime() !== attempt.periodEnd.getTime())
      return { status: "not_charged" as const };

    const declines = sub.renewalAttempts + 1;
    const graceUntil =
      sub.graceUntil ?? new Date(Math.max(now.getTime(), sub.endDate.getTime()) + ctx.policy.graceMs);
    const firstDecline = (await firstDeclineAt(tx, attempt)) ?? now;
    const offset = input.hardDecline ? undefined : ctx.policy.retryOffsetsMs[declines - 1];
    let nextAttemptAt = offset === undefined ? null : new Date(firstDecline.getTime() + offset);
    if (nextAttemptAt && nextAttemptAt >= graceUntil) nextAttemptAt = null;
    const expire = !input.hardDecline && nextAttemptAt === null;

    if (input.hardDecline && sub.boundCardId) {
      await tx
        .update(boundCards)
        .set({ isActive: false, updatedAt: now })
        .where(eq(boundCards.id, sub.boundCardId));
    }
    if (expire) {
      await expireInTx(tx, sub, now, `renewal declined ${declines} time(s), no retry left (${input.code})`);
    } else {
      await tx
        .update(subscriptions)
        .set({
          status: "past_due",
          graceUntil,
          nextRenewalAt: nextAttemptAt,
          renewalAttempts: declines,
          renewalError: input.code.slice(0, 64),
          lastRenewalAttempt: now,
          updatedAt: now,
        })
        .where(eq(subscriptions.id, sub.id));
      await tx.insert(auditLog).values({
        actor: "renewals",
        action: "renewal.declined",
        entityType: "subscription",
        entityId: String(sub.id),
        reason: input.code,
        details: {
          attemptId: attempt.id,
          declines,
          hardDecline: input.hardDecline,
          nextAttemptAt,
          graceUntil,
        },
        createdAt: now,
      });
    }
    // The user is told of the decline (and of the expiry it caused): recorded with it (outbox).
    const notificationIds = [
      await recordNotification(
        tx,
        {
          kind: "renewal_failed",
          userId: sub.userId,
          subscriptionId: sub.id,
          hardDecline: input.hardDecline,
          nextAttemptAt: nextAttemptAt?.toISOString() ?? null,
          errorKind: input.kind,
        },
        attempt.id,
        now,
      ),
    ];
    if (expire) notificationIds.push(await recordExpiryNotice(tx, sub, attempt.id, now));
    return {
      status: "declined" as const,
      nextAttemptAt,
      expired: expire,
      hardDecline: input.hardDecline,
      notificationIds,
    };
  });
  if (result.status !== "declined") return result;
  await ctx.flushNotifications(result.notificationIds);
  return {
    status: "declined",
    nextAttemptAt: result.nextAttemptAt,
    expired: result.expired,
    hardDecline: result.hardDecline,
  };
}

/** Records the "subscription expired" message in the outbox, in the expiring transaction. */
export function recordExpiryNotice(
  tx: Tx,
  sub: Pick<Subscription, "id" | "userId">,
  discriminator: string | number,
  now: Date,
): Promise<string> {
  return recordNotification(
    tx,
    { kind: "subscription_expired", userId: sub.userId, subscriptionId: sub.id },
    `${sub.id}-${discriminator}`,
    now,
  );
}

/** Ends access: expired, auto-renew off, no retry, role back to `user` (admins stay admins). */
export async function expireInTx(tx: Tx, sub: Subscription, now: Date, reason: string) {
  await tx
    .update(subscriptions)
    .set({ status: "expired", autoRenew: false, nextRenewalAt: null, graceUntil: null, updatedAt: now })
    .where(eq(subscriptions.id, sub.id));
  await setUserRole(tx, sub.userId, "user");
  await tx.insert(auditLog).values({
    actor: "renewals",
    action: "subscription.expired",
    entityType: "subscription",
    entityId: String(sub.id),
    reason,
    details: { endDate: sub.endDate, status: sub.status },
    createdAt: now,
  });
}

/** Moves an attempt to `unknown`: the janitor asks ATMOS from `nextCheckAt` on. */
export async function markAttemptUnknown(
  ctx: RenewalContext,
  attemptId: number,
  input: { transactionId: number; code: string; message: string },
) {
  const now = ctx.clock();
  await ctx.db
    .update(renewalAttempts)
    .set({
      status: "unknown",
      transactionId: input.transactionId,
      errorCode: input.code.slice(0, 64),
      errorMessage: input.message.slice(0, 500),
      nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(0)),
      updatedAt: now,
    })
    .where(sql`${renewalAttempts.id} = ${attemptId} and ${renewalAttempts.status} in ('pending', 'unknown')`);
}
