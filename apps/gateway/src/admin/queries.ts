import type { DbOrTx } from "@obuna/db";
import {
  auditLog,
  boundCards,
  paymentSessions,
  payments,
  plans,
  renewalAttempts,
  subscriptions,
  users,
} from "@obuna/db/schema";
import { and, count, desc, eq, gte, ilike, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";

/** Read-side queries of the admin API: filters, search and limit/offset pagination with a total. */

const userRef = {
  id: users.id,
  telegramId: users.telegramId,
  username: users.username,
  firstName: users.firstName,
};

function likeTerm(term: string): string {
  return `%${term.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}

/**
 * Search by Telegram id (digits), username (`@` optional) or a masked card fragment (`1840`,
 * `986009`, `986009******1840`). Returns undefined for no search.
 */
export function searchCondition(search: string | undefined, cardColumn: PgColumn | null): SQL | undefined {
  if (!search) return undefined;
  const term = search.trim();
  const parts: SQL[] = [];
  if (/^\d{1,16}$/.test(term)) parts.push(eq(users.telegramId, Number(term)));
  const name = term.replace(/^@/, "");
  if (name) parts.push(ilike(users.username, likeTerm(name)));
  if (cardColumn && /^[\d*\s]+$/.test(term)) parts.push(ilike(cardColumn, likeTerm(term.replace(/\s/g, ""))));
  return or(...parts);
}

export interface Page {
  limit: number;
  offset: number;
}

async function total(query: Promise<Array<{ n: number }>>): Promise<number> {
  const [row] = await query;
  return Number(row?.n ?? 0);
}

// ------------------------------------------------------------------ payment sessions

export async function listPaymentSessions(
  db: DbOrTx,
  params: Page & { status?: (typeof paymentSessions.status.enumValues)[number]; search?: string },
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
  const n = await total(
    db
      .select({ n: count() })
      .from(paymentSessions)
      .innerJoin(users, eq(users.id, paymentSessions.userId))
      .where(where),
  );
  return { rows, total: n };
}

// ------------------------------------------------------------------ payments

export async function listPayments(
  db: DbOrTx,
  params: Page & {
    status?: (typeof payments.status.enumValues)[number];
    kind?: (typeof payments.kind.enumValues)[number];
    search?: string;
    without_receipt?: boolean;
  },
) {
  const where = and(
    params.status ? eq(payments.status, params.status) : undefined,
    params.kind ? eq(payments.kind, params.kind) : undefined,
    // A charge without a receipt: successful and no receipt link (payments_success_without_receipt_idx).
    params.without_receipt === true
      ? sql`(${payments.status} = 'success' and ${payments.receiptUrl} is null)`
      : params.without_receipt === false
        ? sql`not (${payments.status} = 'success' and ${payments.receiptUrl} is null)`
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
  const n = await total(
    db.select({ n: count() }).from(payments).innerJoin(users, eq(users.id, payments.userId)).where(where),
  );
  return { rows, total: n };
}

export async function getPaymentRow(db: DbOrTx, paymentId: number) {
  const [row] = await db
    .select({ payment: payments, user: userRef })
    .from(payments)
    .innerJoin(users, eq(users.id, payments.userId))
    .where(eq(payments.id, paymentId));
  return row ?? null;
}

// ------------------------------------------------------------------ subscriptions

export async function listSubscriptions(
  db: DbOrTx,
  params: Page & {
    status?: (typeof subscriptions.status.enumValues)[number];
    autoRenew?: boolean;
    search?: string;
    ids?: number[];
  },
) {
  const where = and(
    params.status ? eq(subscriptions.status, params.status) : undefined,
    params.autoRenew === undefined ? undefined : eq(subscriptions.autoRenew, params.autoRenew),
    params.ids ? inArray(subscriptions.id, params.ids) : undefined,
    searchCondition(params.search, boundCards.panMasked),
  );
  const rows = await db
    .select({
      subscription: subscriptions,
      user: userRef,
      planSlug: plans.slug,
      planPrice: plans.price,
      cardMasked: boundCards.panMasked,
    })
    .from(subscriptions)
    .innerJoin(users, eq(users.id, subscriptions.userId))
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .leftJoin(boundCards, eq(boundCards.id, subscriptions.boundCardId))
    .where(where)
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await total(
    db
      .select({ n: count() })
      .from(subscriptions)
      .innerJoin(users, eq(users.id, subscriptions.userId))
      .leftJoin(boundCards, eq(boundCards.id, subscriptions.boundCardId))
      .where(where),
  );
  return { rows, total: n };
}

// ------------------------------------------------------------------ bound cards

export async function listBoundCards(
  db: DbOrTx,
  params: Page & { active?: boolean; search?: string; ids?: number[] },
) {
  const where = and(
    params.active === undefined
      ? undefined
      : params.active
        ? and(eq(boundCards.isActive, true), isNull(boundCards.removedAt))
        : or(eq(boundCards.isActive, false), sql`${boundCards.removedAt} is not null`),
    params.ids ? inArray(boundCards.id, params.ids) : undefined,
    searchCondition(params.search, boundCards.panMasked),
  );
  // Never select card_token: it is a secret and has no place in an admin answer.
  const rows = await db
    .select({
      card: {
        id: boundCards.id,
        cardId: boundCards.cardId,
        panMasked: boundCards.panMasked,
        cardType: boundCards.cardType,
        expiry: boundCards.expiry,
        isActive: boundCards.isActive,
        removedAt: boundCards.removedAt,
        lastUsedAt: boundCards.lastUsedAt,
        createdAt: boundCards.createdAt,
        updatedAt: boundCards.updatedAt,
      },
      user: userRef,
    })
    .from(boundCards)
    .innerJoin(users, eq(users.id, boundCards.userId))
    .where(where)
    .orderBy(desc(boundCards.createdAt), desc(boundCards.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await total(
    db.select({ n: count() }).from(boundCards).innerJoin(users, eq(users.id, boundCards.userId)).where(where),
  );
  return { rows, total: n };
}

// ------------------------------------------------------------------ users

export async function listUsers(
  db: DbOrTx,
  params: Page & { role?: (typeof users.role.enumValues)[number]; search?: string },
) {
  const where = and(
    params.role ? eq(users.role, params.role) : undefined,
    searchCondition(params.search, null),
  );
  const rows = await db
    .select({
      user: users,
      subscriptionId: subscriptions.id,
      subscriptionEndDate: subscriptions.endDate,
    })
    .from(users)
    .leftJoin(
      subscriptions,
      and(eq(subscriptions.userId, users.id), inArray(subscriptions.status, ["active", "past_due"])),
    )
    .where(where)
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await total(db.select({ n: count() }).from(users).where(where));
  return { rows, total: n };
}

// ------------------------------------------------------------------ audit log

export async function listAuditLog(
  db: DbOrTx,
  params: Page & { entityType?: string; entityId?: string; actor?: string; action?: string },
) {
  const where = and(
    params.entityType ? eq(auditLog.entityType, params.entityType) : undefined,
    params.entityId ? eq(auditLog.entityId, params.entityId) : undefined,
    params.actor ? eq(auditLog.actor, params.actor) : undefined,
    params.action ? eq(auditLog.action, params.action) : undefined,
  );
  const rows = await db
    .select()
    .from(auditLog)
    .where(where)
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await total(db.select({ n: count() }).from(auditLog).where(where));
  return { rows, total: n };
}

// ------------------------------------------------------------------ dashboard

const DAY_MS = 86_400_000;
const TASHKENT_OFFSET_MS = 5 * 3_600_000;

/** Midnight in Asia/Tashkent (UTC+5, no DST) of the day `now` falls in, as a UTC instant. */
export function tashkentDayStart(now: Date): Date {
  const local = now.getTime() + TASHKENT_OFFSET_MS;
  return new Date(Math.floor(local / DAY_MS) * DAY_MS - TASHKENT_OFFSET_MS);
}

export async function dashboardFigures(db: DbOrTx, now: Date, stuckAfterMs: number) {
  const since30 = new Date(now.getTime() - 30 * DAY_MS);
  const dayStart = tashkentDayStart(now);
  const [live] = await db
    .select({
      active: count(),
      // The price each will renew at (its own after a plan price change, docs/plans.md; else the
      // plan's) normalised to 30 days, only for subscriptions that will renew.
      mrr: sql<string>`coalesce(sum(case when ${subscriptions.autoRenew} then round(coalesce(${subscriptions.renewalPrice}, ${plans.price})::numeric * 30 / ${plans.durationDays}) else 0 end), 0)`,
    })
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .where(inArray(subscriptions.status, ["active", "past_due"]));
  const renewals = await db
    .select({ status: renewalAttempts.status, n: count() })
    .from(renewalAttempts)
    .where(
      and(gte(renewalAttempts.createdAt, since30), inArray(renewalAttempts.status, ["success", "failed"])),
    )
    .groupBy(renewalAttempts.status);
  const [today] = await db
    .select({ n: count(), sum: sql<string>`coalesce(sum(${payments.amount}), 0)` })
    .from(payments)
    .where(and(eq(payments.status, "success"), gte(payments.createdAt, dayStart)));
  const [stuck] = await db
    .select({ n: count() })
    .from(paymentSessions)
    .where(
      and(
        eq(paymentSessions.status, "processing"),
        lt(paymentSessions.updatedAt, new Date(now.getTime() - stuckAfterMs)),
      ),
    );
  const [unknownPayments] = await db
    .select({ n: count() })
    .from(payments)
    .where(eq(payments.status, "unknown"));
  const [unknownAttempts] = await db
    .select({ n: count() })
    .from(renewalAttempts)
    .where(eq(renewalAttempts.status, "unknown"));
  return {
    activeSubscriptions: Number(live?.active ?? 0),
    mrr: Number(live?.mrr ?? 0),
    renewalsSucceeded: Number(renewals.find((r) => r.status === "success")?.n ?? 0),
    renewalsFailed: Number(renewals.find((r) => r.status === "failed")?.n ?? 0),
    paymentsToday: { count: Number(today?.n ?? 0), sum: Number(today?.sum ?? 0), since: dayStart },
    stuckSessions: Number(stuck?.n ?? 0),
    unknownPayments: Number(unknownPayments?.n ?? 0),
    unknownAttempts: Number(unknownAttempts?.n ?? 0),
  };
}
