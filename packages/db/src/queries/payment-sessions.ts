import { and, count, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { paymentSessions, payments, plans, users } from "../schema/index";
import { type ListPage, pageTotal, searchCondition, userRef } from "./list-page";

/**
 * The payment-session writes the money core makes (complete, fail, payment unknown). The gateway's
 * own session steps before money moves (create, card entry, apply claim) stay in apps/gateway.
 */

export async function lockSession(tx: DbOrTx, sessionId: string) {
  const [row] = await tx
    .select()
    .from(paymentSessions)
    .where(eq(paymentSessions.id, sessionId))
    .limit(1)
    .for("update");
  return row ?? null;
}

/** pending|processing → failed; returns true when this call failed it. */
export async function failSession(
  db: DbOrTx,
  sessionId: string,
  set: { reason: string; otpAttempts?: number; now: Date },
) {
  const rows = await db
    .update(paymentSessions)
    .set({
      status: "failed",
      failureReason: set.reason,
      updatedAt: set.now,
      ...(set.otpAttempts === undefined ? {} : { otpAttempts: set.otpAttempts }),
    })
    .where(
      and(eq(paymentSessions.id, sessionId), sql`${paymentSessions.status} in ('pending', 'processing')`),
    )
    .returning({ id: paymentSessions.id });
  return rows.length > 0;
}

/** The session paid: `completed`; the pending binding's token is dropped once it lives on a card row. */
export async function completeSession(
  tx: DbOrTx,
  sessionId: string,
  set: { now: Date; dropBindingToken: boolean },
) {
  await tx
    .update(paymentSessions)
    .set({
      status: "completed",
      completedAt: set.now,
      failureReason: null,
      ...(set.dropBindingToken ? { bindCardToken: null } : {}),
      updatedAt: set.now,
    })
    .where(eq(paymentSessions.id, sessionId));
}

export function sessionPaymentKey(sessionId: string) {
  return `session:${sessionId}`;
}

/** The session's payment row (never a `success` one) to failed / unknown / pending. */
export async function setSessionPaymentStatus(
  db: DbOrTx,
  sessionId: string,
  set: {
    status: "failed" | "unknown" | "pending";
    errorCode?: string | null;
    errorMessage?: string | null;
    now?: Date;
  },
) {
  await db
    .update(payments)
    .set({
      status: set.status,
      errorCode: set.errorCode ?? null,
      errorMessage: set.errorMessage ?? null,
      updatedAt: set.now ?? new Date(),
    })
    .where(
      and(eq(payments.idempotencyKey, sessionPaymentKey(sessionId)), sql`${payments.status} <> 'success'`),
    );
}

// ------------------------------------------------------------------ admin reads and figures

/**
 * Payment sessions (filter by status; search incl. the card mask), newest first, with owner, plan and
 * the session's payment, and the total.
 */
export async function listPaymentSessions(
  db: DbOrTx,
  params: ListPage & { status?: (typeof paymentSessions.status.enumValues)[number]; search?: string },
) {
  const where = and(
    params.status ? eq(paymentSessions.status, params.status) : undefined,
    searchCondition(params.search, paymentSessions.cardMasked),
  );
  const rows = await db
    .select({
      session: paymentSessions,
      user: userRef,
      planSlug: plans.slug,
      paymentId: payments.id,
      paymentStatus: payments.status,
    })
    .from(paymentSessions)
    .innerJoin(users, eq(users.id, paymentSessions.userId))
    .innerJoin(plans, eq(plans.id, paymentSessions.planId))
    .leftJoin(payments, eq(payments.idempotencyKey, sql`'session:' || ${paymentSessions.id}::text`))
    .where(where)
    .orderBy(desc(paymentSessions.createdAt), desc(paymentSessions.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await pageTotal(
    db
      .select({ n: count() })
      .from(paymentSessions)
      .innerJoin(users, eq(users.id, paymentSessions.userId))
      .where(where),
  );
  return { rows, total: n };
}

/** Sessions in `processing` not updated since `updatedBefore` (stuck: the dashboard, /metrics). */
export async function countStuckPaymentSessions(db: DbOrTx, updatedBefore: Date): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(paymentSessions)
    .where(and(eq(paymentSessions.status, "processing"), lt(paymentSessions.updatedAt, updatedBefore)));
  return Number(row?.n ?? 0);
}

/** One payment session by id, without locking it. */
export async function getPaymentSession(db: DbOrTx, sessionId: string) {
  const [row] = await db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId)).limit(1);
  return row ?? null;
}

/** Sessions left `processing` since before `updatedBefore`, oldest first (the stuck-session re-check). */
export async function findStuckPaymentSessions(db: DbOrTx, o: { updatedBefore: Date; limit: number }) {
  return db
    .select({ id: paymentSessions.id })
    .from(paymentSessions)
    .where(and(eq(paymentSessions.status, "processing"), lt(paymentSessions.updatedAt, o.updatedBefore)))
    .orderBy(paymentSessions.updatedAt)
    .limit(o.limit);
}

/** The sessions whose provider reference (the account sent at creation) is one of these. */
export async function listSessionIdsByReference(db: DbOrTx, references: string[]) {
  if (references.length === 0) return [];
  return db
    .select({ id: paymentSessions.id, reference: paymentSessions.providerReference })
    .from(paymentSessions)
    .where(inArray(paymentSessions.providerReference, references));
}
