import { and, asc, desc, eq, isNotNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { payments, plans, subscriptions } from "../schema/index";
import type { NewPayment } from "../types";

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

export async function lockPayment(tx: DbOrTx, paymentId: number) {
  const [row] = await tx.select().from(payments).where(eq(payments.id, paymentId)).for("update");
  return row ?? null;
}

/** Inserts a payment row; returns its id. */
export async function insertPayment(tx: DbOrTx, values: NewPayment) {
  const [row] = await tx.insert(payments).values(values).returning({ id: payments.id });
  return row!.id;
}

/**
 * A first payment's success: its row (keyed by the session's idempotency key) is inserted, or the
 * pending/unknown row recorded before the charge is updated to it. Returns the payment id.
 */
export async function upsertPaymentByKey(
  tx: DbOrTx,
  insert: NewPayment,
  update: Partial<Omit<NewPayment, "id" | "idempotencyKey">>,
) {
  const [row] = await tx
    .insert(payments)
    .values(insert)
    .onConflictDoUpdate({ target: payments.idempotencyKey, set: update })
    .returning({ id: payments.id });
  return row!.id;
}

export async function markPaymentReversed(tx: DbOrTx, paymentId: number, set: { reason: string; now: Date }) {
  await tx
    .update(payments)
    .set({ status: "reversed", reversedAt: set.now, reverseReason: set.reason, updatedAt: set.now })
    .where(eq(payments.id, paymentId));
}

/** The public offer a subscription's first accepted payment agreed to (renewals carry it). */
export async function findAcceptedOffer(db: DbOrTx, subscriptionId: number) {
  const [offer] = await db
    .select({ version: payments.offerVersion, acceptedAt: payments.offerAcceptedAt })
    .from(payments)
    .where(
      and(
        eq(payments.subscriptionId, subscriptionId),
        eq(payments.kind, "initial"),
        isNotNull(payments.offerVersion),
      ),
    )
    .orderBy(asc(payments.id))
    .limit(1);
  return offer ?? null;
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
