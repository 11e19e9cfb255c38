import {
  completeRenewalPayment,
  failRenewalAttempt,
  holdDuplicatePeriodCharge,
  isUniqueViolation,
  markAttemptUnknown as markUnknownInCore,
  type ProviderPayment,
  type RenewalFailure,
} from "@obuna/billing";
import type { RenewalContext } from "./deps";

export { nextCheckDelayMs, renewalIdempotencyKey } from "@obuna/billing";

/**
 * The provider reference (ATMOS `account`) of a renewal charge: digits only (ATMOS expects a numeric account), unique per
 * attempt, and recognisable — renewal accounts start with 7 and are 13 digits long.
 */
export function renewalAccount(attemptId: number): string {
  return `7${String(attemptId).padStart(12, "0")}`;
}

export type SuccessResolution =
  | { status: "success"; paymentId: number; extended: boolean; newEndDate: Date | null }
  | { status: "already_resolved" };

/**
 * Applies a confirmed charge exactly once (the money core's `completeRenewalPayment`, one
 * transaction): payment row, subscription extended by the plan's duration from the renewed end_date
 * (not from now), counters reset, card last_used_at, attempt success, audit row, the user's message.
 * Safe to call from the worker and the janitor concurrently.
 */
export async function resolveAttemptSuccess(
  ctx: RenewalContext,
  attemptId: number,
  payment: Pick<ProviderPayment, "externalId" | "settlementId" | "receiptUrl">,
  /** The attempt's subscription (its lock goes with the attempt's: see completeRenewalPayment). */
  subscriptionId: number,
): Promise<SuccessResolution> {
  const charge = {
    externalId: payment.externalId,
    settlementId: payment.settlementId,
    receiptUrl: payment.receiptUrl,
  };
  let result: Awaited<ReturnType<typeof completeRenewalPayment>>;
  try {
    result = await ctx.db.transaction((tx) =>
      completeRenewalPayment(tx, ctx, { attemptId, charge, subscriptionId }),
    );
  } catch (error) {
    // payments_one_success_per_renewal_period_key: this period is already paid, so the provider confirmed a
    // second charge for it. Never a second grant: the attempt is held for an operator (refund).
    if (!isUniqueViolation(error)) throw error;
    const held = await ctx.db.transaction((tx) =>
      holdDuplicatePeriodCharge(tx, ctx, { attemptId, externalId: charge.externalId }),
    );
    ctx.logger.error(
      { attemptId, transactionId: payment.externalId },
      "second confirmed charge for a paid renewal period",
    );
    if (held.status === "held") await ctx.flushNotifications(held.notificationIds);
    return { status: "already_resolved" };
  }
  if (result.status !== "completed") return result;
  if (!result.extended) {
    // Money moved for a period we could not extend (the subscription changed meanwhile): an operator decides.
    ctx.logger.error(
      { attemptId, paymentId: result.paymentId },
      "renewal charged but subscription not extended",
    );
  }
  await ctx.flushNotifications(result.notificationIds);
  return {
    status: "success",
    paymentId: result.paymentId,
    extended: result.extended,
    newEndDate: result.newEndDate,
  };
}

export type FailureInput = RenewalFailure;

export type FailureResolution =
  | { status: "not_charged" }
  | { status: "declined"; nextAttemptAt: Date | null; expired: boolean; hardDecline: boolean }
  | { status: "already_resolved" };

/**
 * Applies a failed attempt exactly once (the money core's `failRenewalAttempt`). A decline makes the
 * subscription past_due with grace and plans the next retry; a hard decline deactivates the card and
 * plans none; a decline after the last retry (or one whose next retry would fall after the grace
 * period) expires the subscription.
 */
export async function resolveAttemptFailure(
  ctx: RenewalContext,
  attemptId: number,
  input: FailureInput,
): Promise<FailureResolution> {
  const result = await ctx.db.transaction((tx) =>
    failRenewalAttempt(tx, ctx, { attemptId, failure: input, policy: ctx.policy }),
  );
  if (result.status !== "declined") return result;
  await ctx.flushNotifications(result.notificationIds);
  return {
    status: "declined",
    nextAttemptAt: result.nextAttemptAt,
    expired: result.expired,
    hardDecline: result.hardDecline,
  };
}

/** Moves an attempt to `unknown`: the janitor asks ATMOS from `nextCheckAt` on. */
export async function markAttemptUnknown(
  ctx: RenewalContext,
  attemptId: number,
  input: { externalId: string; code: string; message: string },
) {
  await markUnknownInCore(ctx.db, ctx, { attemptId, ...input });
}
