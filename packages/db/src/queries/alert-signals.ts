import { and, count, eq, gte, inArray, isNotNull, isNull, lt } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { paymentSessions, payments, renewalAttempts, subscriptions } from "../schema/index";

/** What the admin alert check looks at: money that failed lately, and outcomes still open after a while. */
export interface AlertSignals {
  /** Payments that failed at or after `failedSince`. */
  failedPayments: number;
  /** Still `unknown` or `pending` since before `unresolvedBefore`: */
  unresolved: { payments: number; renewalAttempts: number; sessions: number };
  /**
   * Live subscriptions a card took over (card rail) whose Telegram Stars subscription is still not
   * canceled at Telegram, unchanged since before `unresolvedBefore`: Telegram may charge them again.
   */
  starsCancelsOwed: number;
}

/**
 * Counts the admin alert signals: failed payments since `failedSince`, and payments and renewal
 * attempts still `unknown`/`pending` and payment sessions still `processing` since before
 * `unresolvedBefore`.
 */
export async function countAlertSignals(
  db: DbOrTx,
  window: { failedSince: Date; unresolvedBefore: Date },
): Promise<AlertSignals> {
  const [failed] = await db
    .select({ n: count() })
    .from(payments)
    .where(and(eq(payments.status, "failed"), gte(payments.updatedAt, window.failedSince)));
  const [unresolvedPayments] = await db
    .select({ n: count() })
    .from(payments)
    .where(
      and(inArray(payments.status, ["unknown", "pending"]), lt(payments.updatedAt, window.unresolvedBefore)),
    );
  const [unresolvedAttempts] = await db
    .select({ n: count() })
    .from(renewalAttempts)
    .where(
      and(
        inArray(renewalAttempts.status, ["unknown", "pending"]),
        lt(renewalAttempts.createdAt, window.unresolvedBefore),
      ),
    );
  const [stuckSessions] = await db
    .select({ n: count() })
    .from(paymentSessions)
    .where(
      and(eq(paymentSessions.status, "processing"), lt(paymentSessions.updatedAt, window.unresolvedBefore)),
    );
  const [starsOwed] = await db
    .select({ n: count() })
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.rail, "card"),
        isNotNull(subscriptions.starsChargeId),
        isNull(subscriptions.starsCanceledAt),
        inArray(subscriptions.status, ["active", "past_due"]),
        lt(subscriptions.updatedAt, window.unresolvedBefore),
      ),
    );
  return {
    starsCancelsOwed: Number(starsOwed?.n ?? 0),
    failedPayments: Number(failed?.n ?? 0),
    unresolved: {
      payments: Number(unresolvedPayments?.n ?? 0),
      renewalAttempts: Number(unresolvedAttempts?.n ?? 0),
      sessions: Number(stuckSessions?.n ?? 0),
    },
  };
}
