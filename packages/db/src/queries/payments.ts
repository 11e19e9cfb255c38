import { and, asc, count, desc, eq, gte, inArray, isNotNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { preparedInsert, preparedQuery, preparedSql } from "../prepared";
import { paymentSessions, payments, plans, subscriptions, users } from "../schema/index";
import type { NewPayment } from "../types";
import { type ReportRow, TASHKENT_TZ } from "./calendar";
import { type ListPage, pageTotal, searchCondition, userRef } from "./list-page";
import { sessionPaymentKey } from "./payment-sessions";

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
  const [row] = await insertPaymentQuery(tx, values);
  return row!.id;
}

const nextPaymentIdQuery = preparedSql<Record<string, never>, { id: string }>(
  "next_payment_id",
  sql`select nextval(pg_get_serial_sequence('payments', 'id')) as id`,
);

/**
 * A new payment id, taken from the table's own sequence before the row is written: so the writes that
 * refer to the payment can be sent together with its insert (`insertPayment` with this `id`). A value
 * taken and not used (the transaction rolled back) leaves a gap in the ids and nothing else.
 */
export async function nextPaymentId(tx: DbOrTx) {
  const [row] = await nextPaymentIdQuery(tx, {});
  return Number(row!.id);
}

// Every renewal charge inserts one: prepared per set of columns (src/prepared.ts).
const insertPaymentQuery = preparedInsert<{ id: number }[]>("insert_payment", payments, (q) =>
  q.returning({ id: payments.id }),
);

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
  const [offer] = await findAcceptedOfferQuery(db, { subscriptionId });
  return offer ?? null;
}

// Every renewal charge reads it: built once, prepared (src/prepared.ts).
const findAcceptedOfferQuery = preparedQuery("find_accepted_offer", (db) =>
  db
    .select({ version: payments.offerVersion, acceptedAt: payments.offerAcceptedAt })
    .from(payments)
    .where(
      and(
        eq(payments.subscriptionId, sql.placeholder("subscriptionId")),
        eq(payments.kind, "initial"),
        isNotNull(payments.offerVersion),
      ),
    )
    .orderBy(asc(payments.id))
    .limit(1)
    .prepare("find_accepted_offer"),
);

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

// ------------------------------------------------------------------ admin reads and figures

/** Payments (filter by status, kind, missing receipt; search), newest first, with their owner and the total. */
export async function listPayments(
  db: DbOrTx,
  params: ListPage & {
    status?: (typeof payments.status.enumValues)[number];
    kind?: (typeof payments.kind.enumValues)[number];
    search?: string;
    without_receipt?: boolean;
  },
) {
  const where = and(
    params.status ? eq(payments.status, params.status) : undefined,
    params.kind ? eq(payments.kind, params.kind) : undefined,
    // A charge without a receipt: successful, no receipt link, and a card charge (Telegram Stars have
    // no fiscal receipt by design): payments_success_without_receipt_idx still serves it.
    params.without_receipt === true
      ? sql`(${payments.status} = 'success' and ${payments.receiptUrl} is null and ${payments.provider} = 'atmos')`
      : params.without_receipt === false
        ? sql`not (${payments.status} = 'success' and ${payments.receiptUrl} is null and ${payments.provider} = 'atmos')`
        : undefined,
    searchCondition(params.search, payments.cardMasked),
  );
  const rows = await db
    .select({ payment: payments, user: userRef })
    .from(payments)
    .innerJoin(users, eq(users.id, payments.userId))
    .where(where)
    .orderBy(desc(payments.createdAt), desc(payments.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await pageTotal(
    db.select({ n: count() }).from(payments).innerJoin(users, eq(users.id, payments.userId)).where(where),
  );
  return { rows, total: n };
}

/** One payment with its owner, or null. */
export async function getPaymentRow(db: DbOrTx, paymentId: number) {
  const [row] = await db
    .select({ payment: payments, user: userRef })
    .from(payments)
    .innerJoin(users, eq(users.id, payments.userId))
    .where(eq(payments.id, paymentId));
  return row ?? null;
}

/** Payments created since `since`, counted by kind and status (the obuna_payments_24h gauge). */
export async function countPaymentsSince(db: DbOrTx, since: Date) {
  return db
    .select({ kind: payments.kind, status: payments.status, n: count() })
    .from(payments)
    .where(gte(payments.createdAt, since))
    .groupBy(payments.kind, payments.status);
}

/** Successful payments created since `since`: how many, and their sum in tiyin. */
export async function sumSuccessfulPaymentsSince(db: DbOrTx, since: Date) {
  const [row] = await db
    .select({ n: count(), sum: sql<string>`coalesce(sum(${payments.amount}), 0)` })
    .from(payments)
    .where(and(eq(payments.status, "success"), gte(payments.createdAt, since)));
  return { count: Number(row?.n ?? 0), sum: Number(row?.sum ?? 0) };
}

/** Payments whose charge outcome is still unknown. */
export async function countUnknownPayments(db: DbOrTx): Promise<number> {
  const [row] = await db.select({ n: count() }).from(payments).where(eq(payments.status, "unknown"));
  return Number(row?.n ?? 0);
}

/**
 * Revenue by the Tashkent day a successful payment was created, rail (payments.provider) and plan
 * slug, between `since` and `now` (a refunded payment is `reversed`, so it drops out).
 */
export async function revenueByDay(db: DbOrTx, window: { since: Date; now: Date }) {
  const sinceIso = window.since.toISOString();
  const nowIso = window.now.toISOString();
  return (await db.execute(sql`
    select to_char((p.created_at at time zone ${TASHKENT_TZ})::date, 'YYYY-MM-DD') as date,
           p.provider::text as rail, pl.slug as plan_slug,
           sum(p.amount)::bigint as amount, count(*)::int as count
    from payments p
    left join subscriptions s on s.id = p.subscription_id
    left join payment_sessions ps on ps.id = p.session_id
    join plans pl on pl.id = coalesce(s.plan_id, ps.plan_id)
    where p.status = 'success' and p.created_at >= ${sinceIso}::timestamptz and p.created_at <= ${nowIso}::timestamptz
    group by 1, 2, 3 order by 1, 2, 3
  `)) as unknown as ReportRow[];
}

// ------------------------------------------------------------------ a session's first payment

export async function getSessionPayment(db: DbOrTx, sessionId: string) {
  const [row] = await db
    .select()
    .from(payments)
    .where(eq(payments.idempotencyKey, sessionPaymentKey(sessionId)))
    .limit(1);
  return row ?? null;
}

/**
 * The payment that completed a session, whatever the rail (a card charge's row is keyed by the session;
 * a Telegram Stars payment by its charge id): at most one per session (payments_one_success_per_session_key).
 */
export async function getSessionSuccessfulPayment(db: DbOrTx, sessionId: string) {
  const [row] = await db
    .select()
    .from(payments)
    .where(and(eq(payments.sessionId, sessionId), eq(payments.status, "success")))
    .limit(1);
  return row ?? null;
}

/** The attempt is recorded before ATMOS is asked to move money. */
export async function ensurePendingPayment(
  db: DbOrTx,
  input: {
    sessionId: string;
    userId: number;
    amount: number;
    externalId: string;
    cardMasked: string | null;
    offerVersion?: string | null;
    offerAcceptedAt?: Date | null;
  },
) {
  await db
    .insert(payments)
    .values({
      userId: input.userId,
      sessionId: input.sessionId,
      kind: "initial",
      status: "pending",
      amount: input.amount,
      externalId: input.externalId,
      cardMasked: input.cardMasked,
      offerVersion: input.offerVersion ?? null,
      offerAcceptedAt: input.offerAcceptedAt ?? null,
      idempotencyKey: sessionPaymentKey(input.sessionId),
    })
    .onConflictDoNothing({ target: payments.idempotencyKey });
}

/** Payments created at or after `since` that reached the provider (they carry its id). */
export async function listProviderPaymentsSince(db: DbOrTx, since: Date) {
  return db
    .select()
    .from(payments)
    .where(and(gte(payments.createdAt, since), isNotNull(payments.externalId)));
}

export async function listOpenPaymentsOfEndedSessions(db: DbOrTx, since: Date) {
  return db
    .select({ paymentId: payments.id, sessionStatus: paymentSessions.status })
    .from(payments)
    .innerJoin(paymentSessions, eq(paymentSessions.id, payments.sessionId))
    .where(
      and(
        gte(payments.createdAt, since),
        inArray(payments.status, ["pending", "unknown"]),
        inArray(paymentSessions.status, ["expired", "failed", "completed"]),
      ),
    );
}

export async function listPaymentsByIds(db: DbOrTx, ids: number[]) {
  if (ids.length === 0) return [];
  return db.select().from(payments).where(inArray(payments.id, ids));
}

/** The payments holding any of these provider payment ids. */
export async function listPaymentsByProviderIds(db: DbOrTx, externalIds: string[]) {
  if (externalIds.length === 0) return [];
  return db
    .select({ id: payments.id, externalId: payments.externalId, status: payments.status })
    .from(payments)
    .where(inArray(payments.externalId, externalIds));
}
