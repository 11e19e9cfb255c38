import { isProviderError, type ProviderError, type ReceiptLine, writeAudit } from "@obuna/billing";
import { pipelined } from "@obuna/db";
import {
  claimChargeableAttempt,
  insertRenewalAttempt,
  insertRenewalAttemptIfUnchanged,
  listPeriodAttempts,
  lockRenewalAttempt,
  lockSubscriptionForRenewal,
  planReceiptItems,
  readSubscriptionForRenewal,
  recordAttemptTransaction,
  renewalAmount,
  revealCardToken,
  updateRenewalAttempt,
} from "@obuna/db/queries";
import {
  type FailureInput,
  markAttemptUnknown,
  renewalAccount,
  resolveAttemptFailure,
  resolveAttemptSuccess,
} from "./attempts";
import { isUniqueViolation, type RenewalContext } from "./deps";

export type ChargeOutcome =
  | { status: "skipped"; reason: string }
  | { status: "success"; attemptId: number; paymentId: number }
  | {
      status: "declined";
      attemptId: number;
      hardDecline: boolean;
      expired: boolean;
      nextAttemptAt: Date | null;
    }
  | { status: "unknown"; attemptId: number }
  | { status: "not_charged"; attemptId: number; error: string; retryable: boolean };

/** Kinds that mean the card (or its owner's account) said no. Everything else is on our side or the provider's. */
const DECLINE_KINDS = new Set<string>([
  "insufficient_funds",
  "card_expired",
  "card_blocked",
  "card_not_found",
  "declined",
  "sms_not_connected",
]);

interface StartedAttempt {
  attemptId: number;
  amount: number;
  cardToken: string;
  subscriptionId: number;
  /** The fiscal receipt of this charge: the plan's IKPU/package code/VAT line. */
  receipt: ReceiptLine[];
}

type RenewalRead = NonNullable<Awaited<ReturnType<typeof lockSubscriptionForRenewal>>>;
type PeriodAttempts = Awaited<ReturnType<typeof listPeriodAttempts>>;

/**
 * Whether the subscription read is due for the job's period with a usable card and no open attempt,
 * and if so what the attempt charges and its number. Both ways of starting an attempt decide here.
 */
function decideStart(
  ctx: RenewalContext,
  job: { periodEnd: Date },
  read: RenewalRead | null,
  attempts: PeriodAttempts,
  now: Date,
  options: { ignoreRetrySchedule?: boolean },
): { skipped: string } | { amount: number; attemptNumber: number; cardToken: string } {
  if (!read) return { skipped: "subscription not found" };
  const { subscription: sub, card, plan } = read;
  if (sub.status !== "active" && sub.status !== "past_due")
    return { skipped: `subscription is ${sub.status}` };
  if (!sub.autoRenew) return { skipped: "auto-renew is off" };
  if (sub.rail !== "card") return { skipped: "Telegram Stars renews it" };
  if (sub.endDate.getTime() !== job.periodEnd.getTime())
    return { skipped: "period already renewed or changed" };
  if (sub.endDate.getTime() - ctx.policy.leadMs > now.getTime()) return { skipped: "not due yet" };
  if (!options.ignoreRetrySchedule && sub.nextRenewalAt && sub.nextRenewalAt > now) {
    return { skipped: "next retry not reached" };
  }
  if (!sub.boundCardId) return { skipped: "no bound card" };
  if (!card?.isActive || card.removedAt || card.cardToken === null) return { skipped: "card not active" };
  const open = attempts.find(
    (a) => a.status === "pending" || a.status === "unknown" || a.status === "success",
  );
  if (open) return { skipped: `attempt ${open.attemptNumber} is ${open.status}` };
  return {
    // The subscription's own price until a plan price change was noticed in time (docs/plans.md).
    amount: renewalAmount(sub, plan),
    attemptNumber: (attempts.at(-1)?.attemptNumber ?? 0) + 1,
    cardToken: card.cardToken,
  };
}

/**
 * Step 1: re-check that the subscription is due for this period and insert the `pending` attempt
 * with the next attempt number, committed before the provider is called.
 *
 * Usually without a transaction (two round trips): the subscription and the period's attempts are
 * read together, and the attempt is inserted only if the subscription row is still the version read,
 * under its row lock (`insertRenewalAttemptIfUnchanged`), so every check made on the read still
 * holds. When the row changed meanwhile, the decision is made again in a transaction that locks the
 * subscription first. The row lock serialises concurrent workers; the unique (subscription, period,
 * attempt number) is the final guard. The two reads are not one snapshot: an attempt the list
 * misses (another worker's, written meanwhile) holds the number this one would take, since numbers
 * are max + 1 and attempts are never deleted, so the unique key refuses this one.
 */
async function startAttempt(
  ctx: RenewalContext,
  job: { subscriptionId: number; periodEnd: Date },
  options: { ignoreRetrySchedule?: boolean },
): Promise<StartedAttempt | { skipped: string }> {
  const now = ctx.clock();
  const started = (read: RenewalRead, attemptId: number, amount: number, cardToken: string) => ({
    attemptId,
    amount,
    cardToken,
    subscriptionId: read.subscription.id,
    // The receipt line is what this charge takes: the subscription's own renewal price.
    receipt: planReceiptItems(read.plan, amount),
  });
  // A pending attempt still here after this time belongs to a dead worker: the janitor takes it.
  const nextCheckAt = new Date(now.getTime() + ctx.policy.stalePendingMs);
  try {
    // Not locked: the read and the period's attempts, sent together (`pipelined`, one round trip).
    const [read, readAttempts] = await pipelined([
      readSubscriptionForRenewal(ctx.db, job.subscriptionId),
      listPeriodAttempts(ctx.db, job.subscriptionId, job.periodEnd),
    ]);
    const fast = decideStart(ctx, job, read, readAttempts, now, options);
    // A skip on a committed read is as good as one under the lock: nothing is written either way.
    if ("skipped" in fast) return fast;
    const attemptId = await insertRenewalAttemptIfUnchanged(ctx.db, {
      subscriptionId: read!.subscription.id,
      version: read!.version,
      periodEnd: read!.subscription.endDate,
      attemptNumber: fast.attemptNumber,
      amount: fast.amount,
      nextCheckAt,
      now,
    });
    if (attemptId !== null) return started(read!, attemptId, fast.amount, fast.cardToken);
    return await ctx.db.transaction(async (tx) => {
      // The locked subscription (with its plan and card) and then the attempts of the job's period,
      // sent together (`pipelined`: one round trip, the read runs once the lock is held).
      const [locked, attempts] = await pipelined([
        lockSubscriptionForRenewal(tx, job.subscriptionId),
        listPeriodAttempts(tx, job.subscriptionId, job.periodEnd),
      ]);
      const decided = decideStart(ctx, job, locked, attempts, now, options);
      if ("skipped" in decided) return decided;
      const lockedAttemptId = await insertRenewalAttempt(tx, {
        subscriptionId: locked!.subscription.id,
        periodEnd: locked!.subscription.endDate,
        attemptNumber: decided.attemptNumber,
        status: "pending",
        amount: decided.amount,
        nextCheckAt,
        createdAt: now,
        updatedAt: now,
      });
      return started(locked!, lockedAttemptId, decided.amount, decided.cardToken);
    });
  } catch (error) {
    if (isUniqueViolation(error)) return { skipped: "another worker started this attempt" };
    throw error;
  }
}

/**
 * The last check before the charge call, under row locks on the subscription and the attempt:
 * auto-renew still on, the subscription live and its card usable (one statement when every check
 * passes; a transaction that records why when one does not). A cancel (auto-renew
 * off, card removed — both update the subscription row) that committed first wins: the attempt
 * ends `failed` NOT_CHARGED:cancelled and apply is never sent. Otherwise the attempt becomes
 * `unknown` (the charge may be sent from now on), so a cancel that commits after sees it in flight
 * and the charge, if it goes through, is honoured (resolveAttemptSuccess tells the user plainly).
 */
async function claimChargeSend(
  ctx: RenewalContext,
  attemptId: number,
  subscriptionId: number,
): Promise<{ send: true } | { send: false; reason: string }> {
  const now = ctx.clock();
  // The usual case, every check passing, is one statement with the same locks and checks
  // (`claimChargeableAttempt`). Only a refusal pays for the transaction below, which says why.
  if (await claimChargeableAttempt(ctx.db, { attemptId, subscriptionId, now })) return { send: true };
  return ctx.db.transaction(async (tx) => {
    // The attempt's lock, then the subscription's: sent together (`pipelined`, one round trip, same order).
    const [attempt, locked] = await pipelined([
      lockRenewalAttempt(tx, attemptId),
      lockSubscriptionForRenewal(tx, subscriptionId),
    ]);
    if (attempt?.status !== "pending") return { send: false, reason: "attempt resolved meanwhile" };
    const sub = locked?.subscription;
    let refused: string | null = null;
    if (!sub || (sub.status !== "active" && sub.status !== "past_due")) refused = "subscription not live";
    else if (sub.endDate.getTime() !== attempt.periodEnd.getTime()) refused = "period already renewed";
    else if (!sub.autoRenew) refused = "auto-renew turned off";
    else if (sub.rail !== "card") refused = "renewed with Telegram Stars";
    else if (!sub.boundCardId) refused = "card removed";
    else {
      const card = locked?.card;
      if (!card?.isActive || card.removedAt || card.cardToken === null) refused = "card removed";
    }
    if (refused === null) {
      await updateRenewalAttempt(tx, attemptId, { status: "unknown", updatedAt: now });
      return { send: true as const };
    }
    await updateRenewalAttempt(tx, attemptId, {
      status: "failed",
      errorCode:
        refused === "period already renewed" ? "NOT_CHARGED:period_renewed" : "NOT_CHARGED:cancelled",
      errorMessage: `${refused} before the charge was sent`,
      nextCheckAt: null,
      resolvedAt: now,
      updatedAt: now,
    });
    await writeAudit(
      tx,
      {
        actor: "renewals",
        action: "renewal.cancelled_before_charge",
        entityType: "subscription",
        entityId: subscriptionId,
        reason: refused,
        details: { attemptId, transactionId: attempt.externalId },
      },
      now,
    );
    return { send: false as const, reason: `${refused} before the charge was sent` };
  });
}

function failureFrom(error: ProviderError): FailureInput {
  return {
    code: error.code ?? error.kind,
    message: error.message,
    kind: error.kind,
    isDecline: true,
    hardDecline: error.isHardDecline,
  };
}

/**
 * Charges one subscription for one billing period.
 *
 * We compose create → prepare (saved card) → confirm ourselves instead of `chargeSavedCard` so the
 * provider's payment id is on the attempt row the moment `createPayment` returns: a worker killed after
 * that point leaves an attempt the janitor can resolve with `getPayment`; one killed before it leaves
 * an attempt without a payment, which provably charged nothing (no prepare/confirm was sent).
 */
export async function chargeSubscription(
  ctx: RenewalContext,
  job: { subscriptionId: number; periodEnd: Date },
  options: { ignoreRetrySchedule?: boolean } = {},
): Promise<ChargeOutcome> {
  const started = await startAttempt(ctx, job, options);
  if ("skipped" in started) {
    ctx.logger.debug({ subscriptionId: job.subscriptionId, reason: started.skipped }, "renewal skipped");
    return { status: "skipped", reason: started.skipped };
  }
  const { attemptId } = started;
  const log = ctx.logger.child({ subscriptionId: started.subscriptionId, attemptId });
  let stage: "create" | "pre_apply" | "apply" = "create";
  let transactionId: string | null = null;
  try {
    const cardToken = revealCardToken({ cardToken: started.cardToken }, ctx.cardTokenKey);
    const created = await ctx.provider.createPayment({
      amount: started.amount,
      reference: renewalAccount(attemptId),
      description: `Obuna renewal ${started.subscriptionId}`,
    });
    transactionId = created.externalId;
    if (!(await recordAttemptTransaction(ctx.db, attemptId, transactionId, ctx.clock()))) {
      log.warn({ transactionId }, "attempt was resolved by the janitor meanwhile; not charging");
      return { status: "skipped", reason: "attempt resolved meanwhile" };
    }
    stage = "pre_apply";
    await ctx.provider.prepareSavedCardPayment({ externalId: transactionId, cardToken });
    const claim = await claimChargeSend(ctx, attemptId, started.subscriptionId);
    if (!claim.send) {
      log.info({ transactionId, reason: claim.reason }, "renewal not charged: cancelled before the charge");
      return { status: "skipped", reason: claim.reason };
    }
    stage = "apply";
    // The fiscal apply: the charge and its receipt.
    const applied = await ctx.provider.confirmSavedCardPayment({
      externalId: transactionId,
      receipt: started.receipt,
    });
    if (applied.state !== "confirmed") {
      await markAttemptUnknown(ctx, attemptId, {
        externalId: transactionId,
        code: applied.statusCode ?? "NOT_CONFIRMED",
        message: `apply answered state ${applied.state}`,
      });
      log.warn({ transactionId, state: applied.state }, "apply did not confirm; the janitor will check");
      return { status: "unknown", attemptId };
    }
    const resolved = await resolveAttemptSuccess(ctx, attemptId, applied, started.subscriptionId);
    if (resolved.status === "already_resolved")
      return { status: "skipped", reason: "attempt resolved meanwhile" };
    log.info({ transactionId, paymentId: resolved.paymentId }, "renewal charged");
    return { status: "success", attemptId, paymentId: resolved.paymentId };
  } catch (error) {
    const providerError = isProviderError(error) ? error : null;
    // An answer that may hide a charge (lost answer, unrecognised code) is never a final decline.
    const unclear = providerError?.outcomeUnknown || providerError?.kind === "unrecognised_result";
    if (providerError && !unclear && DECLINE_KINDS.has(providerError.kind)) {
      const resolved = await resolveAttemptFailure(ctx, attemptId, failureFrom(providerError));
      log.info({ transactionId, kind: providerError.kind, code: providerError.code }, "renewal declined");
      if (resolved.status !== "declined") return { status: "skipped", reason: "attempt resolved meanwhile" };
      return { ...resolved, status: "declined", attemptId };
    }
    if (stage === "apply" && transactionId !== null) {
      // The confirm may have charged the card: never retry blindly, let the janitor ask the provider.
      await markAttemptUnknown(ctx, attemptId, {
        externalId: transactionId,
        code: providerError?.code ?? providerError?.kind ?? "UNKNOWN",
        message: error instanceof Error ? error.message : String(error),
      });
      log.warn(
        { transactionId, kind: providerError?.kind },
        "renewal outcome unknown; the janitor will check",
      );
      return { status: "unknown", attemptId };
    }
    // Before apply no money can move: the attempt failed without a charge and may be tried again.
    const code = `NOT_CHARGED:${providerError?.kind ?? "internal"}`;
    await resolveAttemptFailure(ctx, attemptId, {
      code,
      message: error instanceof Error ? error.message : String(error),
      kind: providerError?.kind ?? null,
      isDecline: false,
      hardDecline: false,
    });
    log.warn({ transactionId, stage, kind: providerError?.kind }, "renewal not charged");
    const transient = providerError
      ? providerError.retryable ||
        providerError.outcomeUnknown ||
        ["timeout", "network", "server_error"].includes(providerError.kind)
      : true;
    return { status: "not_charged", attemptId, error: code, retryable: transient };
  }
}
