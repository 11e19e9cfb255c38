import { desc, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { payments, plans, subscriptions } from "../schema/index";

/** A user's payments, newest first, with the plan they paid for. */
export async function listPaymentsByUser(db: DbOrTx, userId: number, limit = 20) {
  return db
    .select({
      id: payments.id,
      kind: payments.kind,
      status: payments.status,
      amount: payments.amount,
      cardMasked: payments.cardMasked,
      receiptUrl: payments.receiptUrl,
      createdAt: payments.createdAt,
      planSlug: plans.slug,
    })
    .from(payments)
    .leftJoin(subscriptions, eq(subscriptions.id, payments.subscriptionId))
    .leftJoin(plans, eq(plans.id, subscriptions.planId))
    .where(eq(payments.userId, userId))
    .orderBy(desc(payments.createdAt), desc(payments.id))
    .limit(limit);
}

export async function getPaymentByIdempotencyKey(db: DbOrTx, key: string) {
  const [row] = await db.select().from(payments).where(eq(payments.idempotencyKey, key)).limit(1);
  return row ?? null;
}

/**
 * Pending payment sessions past their expiry become `expired`, and the `pending` payment row an
 * apply left on such a session (e.g. after a wrong code or a passing ATMOS fault, no money moved)
 * fails with it (`session_expired`), in the same statement: an expired session never leaves a
 * payment open. `sessionId` limits it to one session. Returns the ids of the sessions it expired.
 */
export async function expirePaymentSessions(
  db: DbOrTx,
  o: { now: Date; sessionId?: string },
): Promise<string[]> {
  const now = o.now.toISOString();
  const rows = await db.execute<{ id: string }>(sql`
    with expired as (
      update payment_sessions
      set status = 'expired', failure_reason = 'expired', updated_at = ${now}::timestamptz
      where status = 'pending' and expires_at <= ${now}::timestamptz
        ${o.sessionId === undefined ? sql`` : sql`and id = ${o.sessionId}::uuid`}
      returning id
    ), closed as (
      update payments
      set status = 'failed', error_code = 'session_expired',
        error_message = 'The payment session expired before the payment', updated_at = ${now}::timestamptz
      where session_id in (select id from expired) and status = 'pending'
      returning id
    )
    select id from expired`);
  return [...rows].map((r) => r.id);
}
