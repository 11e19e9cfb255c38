import {
  isProviderError,
  type ProviderPayment,
  rescheduleAttemptCheck,
  resolveAttemptCharge,
} from "@obuna/billing";
import type { RenewalAttempt } from "@obuna/db";
import { findAttemptsToCheck } from "@obuna/db/queries";
import { resolveAttemptFailure, resolveAttemptSuccess } from "./attempts";
import type { RenewalContext } from "./deps";

export type JanitorResolution = "success" | "declined" | "not_charged" | "rescheduled" | "already_resolved";

async function reschedule(ctx: RenewalContext, attempt: RenewalAttempt, note: string) {
  await rescheduleAttemptCheck(ctx.db, ctx, { attempt, note });
  return "rescheduled" as const;
}

/**
 * Resolves one attempt whose outcome we do not know: an `unknown` one (lost apply answer, timeout)
 * or a stale `pending` one (the worker died). The provider's `getPayment` is the source of truth; the
 * outcome is applied through the same exactly-once functions the worker uses.
 */
export async function resolveAttempt(
  ctx: RenewalContext,
  attempt: RenewalAttempt,
): Promise<JanitorResolution> {
  const log = ctx.logger.child({ attemptId: attempt.id, subscriptionId: attempt.subscriptionId });
  if (attempt.externalId === null) {
    // No ATMOS transaction was recorded, so no pre-apply/apply was ever sent: nothing was charged.
    const r = await resolveAttemptFailure(ctx, attempt.id, {
      code: "NOT_CHARGED:worker_lost",
      message: "the worker stopped before an ATMOS transaction existed",
      kind: null,
      isDecline: false,
      hardDecline: false,
      onlyIfNoTransaction: true,
    });
    log.info({ result: r.status }, "janitor: stale attempt without transaction closed as not charged");
    return r.status === "already_resolved" ? "already_resolved" : "not_charged";
  }
  let state: ProviderPayment;
  try {
    state = await ctx.provider.getPayment(attempt.externalId);
  } catch (error) {
    if (isProviderError(error) && error.kind === "payment_not_found") {
      const r = await resolveAttemptFailure(ctx, attempt.id, {
        // The code operators and reports know (renewal_attempts.error_code), kept across providers.
        code: "NOT_CHARGED:transaction_not_found",
        message: error.message,
        kind: error.kind,
        isDecline: false,
        hardDecline: false,
      });
      return r.status === "already_resolved" ? "already_resolved" : "not_charged";
    }
    log.warn(
      { kind: isProviderError(error) ? error.kind : "internal" },
      "janitor: provider getPayment failed; will ask again",
    );
    return reschedule(ctx, attempt, "get transaction failed");
  }
  // Only `confirmed` is a payment: a reversed transaction was paid once and refunded by ATMOS.
  const resolution = resolveAttemptCharge(attempt, state);
  if (resolution.next === "complete") {
    const r = await resolveAttemptSuccess(ctx, attempt.id, state, attempt.subscriptionId);
    log.info({ transactionId: attempt.externalId, result: r.status }, "janitor: charge confirmed at ATMOS");
    return r.status === "success" ? "success" : "already_resolved";
  }
  if (resolution.next === "fail" && !resolution.giveUp) {
    // Finished without payment (closed, or charged and then reversed: the money went back). After
    // an apply that was sent (unknown) this is the card's decline; for a worker that died before
    // apply it is not the card's fault. Never a success: the period is not extended.
    const r = await resolveAttemptFailure(ctx, attempt.id, resolution.failure);
    log.info(
      { transactionId: attempt.externalId, result: r.status },
      "janitor: transaction closed without payment",
    );
    return r.status === "already_resolved" ? "already_resolved" : r.status;
  }
  if (resolution.next === "fail") {
    // Still created/pre-applied after the 5 min, 1 h and 1 day checks: no apply is in flight anymore.
    const r = await resolveAttemptFailure(ctx, attempt.id, resolution.failure);
    await ctx.notify(
      {
        kind: "admin_alert",
        alert: "unknown_outcomes",
        text: `Renewal attempt ${attempt.id}: ATMOS transaction ${attempt.externalId} still ${state.state}; closed as not charged.`,
      },
      `renewal-stuck-${attempt.id}`,
    );
    return r.status === "already_resolved" ? "already_resolved" : "not_charged";
  }
  return reschedule(ctx, attempt, `transaction still ${state.state}`);
}

/** One janitor pass over every attempt whose check time has come. */
export async function runJanitor(ctx: RenewalContext, options: { limit?: number } = {}) {
  const attempts = await findAttemptsToCheck(ctx.db, { now: ctx.clock(), limit: options.limit ?? 500 });
  const counts: Record<JanitorResolution, number> = {
    success: 0,
    declined: 0,
    not_charged: 0,
    rescheduled: 0,
    already_resolved: 0,
  };
  for (const attempt of attempts) counts[await resolveAttempt(ctx, attempt)]++;
  if (attempts.length > 0) ctx.logger.info({ ...counts, checked: attempts.length }, "janitor pass");
  return { checked: attempts.length, ...counts };
}
