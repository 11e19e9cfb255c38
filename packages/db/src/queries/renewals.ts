import { and, asc, eq, gt, inArray, lte, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { preparedInsert, preparedQuery, preparedSql, preparedUpdateById } from "../prepared";
import { boundCards, plans, renewalAttempts, subscriptions, users } from "../schema/index";
import type { NewRenewalAttempt, RenewalAttempt } from "../types";
import { expirePaymentSessions } from "./payments";

/**
 * Queries of the renewals worker. The predicates on subscriptions repeat the partial index
 * `subscriptions_due_renewal_idx` literally (`auto_renew and status in ('active','past_due')`, no bind
 * parameters), so the planner can use it: the sweep's cost follows the number of due rows.
 */
const renewable = sql`${subscriptions.autoRenew} and ${subscriptions.status} in ('active', 'past_due')`;

export interface DueRenewal {
  subscriptionId: number;
  periodEnd: Date;
  /** The attempt number the next charge for this period will use (1 for the first). */
  nextAttemptNumber: number;
}

/**
 * Subscriptions to charge now: auto-renewing on the card rail, live, an active bound card, end_date within the lead
 * time, retry time reached, and no attempt for the period that is pending, unknown or successful.
 * Keyset-paginated by (end_date, id).
 */
export async function findDueRenewals(db: DbOrTx, params: DueRenewalsParams): Promise<DueRenewal[]> {
  return dueRenewalsQuery(db, params);
}

export interface DueRenewalsParams {
  now: Date;
  leadMs: number;
  limit: number;
  after?: { endDate: Date; id: number };
}

/** The query `findDueRenewals` runs, unsent (its plan is checked in apps/renewals test/sweep.test.ts). */
export function dueRenewalsQuery(db: DbOrTx, params: DueRenewalsParams) {
  const horizon = new Date(params.now.getTime() + params.leadMs);
  const openAttempt = sql`exists (select 1 from ${renewalAttempts} ra where ra.subscription_id = ${subscriptions.id}
    and ra.period_end = ${subscriptions.endDate} and ra.status in ('pending', 'unknown', 'success'))`;
  return db
    .select({
      subscriptionId: subscriptions.id,
      periodEnd: subscriptions.endDate,
      nextAttemptNumber:
        sql<number>`(select coalesce(max(ra.attempt_number), 0) + 1 from ${renewalAttempts} ra
        where ra.subscription_id = ${subscriptions.id} and ra.period_end = ${subscriptions.endDate})`.mapWith(
          Number,
        ),
    })
    .from(subscriptions)
    .innerJoin(boundCards, eq(boundCards.id, subscriptions.boundCardId))
    .where(
      and(
        renewable,
        lte(subscriptions.endDate, horizon),
        params.after
          ? sql`(${subscriptions.endDate}, ${subscriptions.id}) > (${params.after.endDate.toISOString()}::timestamptz, ${params.after.id})`
          : undefined,
        or(sql`${subscriptions.nextRenewalAt} is null`, lte(subscriptions.nextRenewalAt, params.now)),
        eq(boundCards.isActive, true),
        sql`${boundCards.removedAt} is null`,
        // One rail renews: a Stars subscription is Telegram's to charge, whatever auto_renew says.
        sql`${subscriptions.rail} = 'card'`,
        sql`not ${openAttempt}`,
      ),
    )
    .orderBy(asc(subscriptions.endDate), asc(subscriptions.id))
    .limit(params.limit);
}

/** Attempts the janitor must look at: unknown outcomes whose check time came, and stale pendings. */
export async function findAttemptsToCheck(db: DbOrTx, params: { now: Date; limit: number }) {
  return db
    .select()
    .from(renewalAttempts)
    .where(
      and(
        sql`${renewalAttempts.status} in ('unknown', 'pending')`,
        lte(renewalAttempts.nextCheckAt, params.now),
      ),
    )
    .orderBy(asc(renewalAttempts.nextCheckAt))
    .limit(params.limit);
}

// The charge path runs these several times per renewal: built once, prepared (src/prepared.ts).
const lockSubscriptionQuery = preparedQuery("lock_subscription", (db) =>
  db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.id, sql.placeholder("subscriptionId")))
    .for("update")
    .prepare("lock_subscription"),
);

export async function lockSubscription(tx: DbOrTx, subscriptionId: number) {
  const [row] = await lockSubscriptionQuery(tx, { subscriptionId });
  return row ?? null;
}

/**
 * The subscription with its plan, its bound card, its holder's Telegram id and its row version
 * (`xmin`: every update of the row gives a new one), as the charge path reads it, locked or not.
 */
const subscriptionForRenewal = (db: DbOrTx) =>
  db
    .select({
      subscription: subscriptions,
      card: boundCards,
      plan: plans,
      telegramId: users.telegramId,
      version: sql<string>`${subscriptions}.xmin::text`,
    })
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .innerJoin(users, eq(users.id, subscriptions.userId))
    .leftJoin(boundCards, eq(boundCards.id, subscriptions.boundCardId))
    .where(eq(subscriptions.id, sql.placeholder("subscriptionId")));

const lockSubscriptionForRenewalQuery = preparedQuery("lock_subscription_for_renewal", (db) =>
  subscriptionForRenewal(db).for("update", { of: subscriptions }).prepare("lock_subscription_for_renewal"),
);

/**
 * The subscription locked for update (as {@link lockSubscription}), with its plan, its bound card
 * (null when it has none), its holder's Telegram id (for its premium events) and its row version, in
 * one round trip. Neither the plan, the card nor the user row is locked.
 */
export async function lockSubscriptionForRenewal(tx: DbOrTx, subscriptionId: number) {
  const [row] = await lockSubscriptionForRenewalQuery(tx, { subscriptionId });
  return row ?? null;
}

const readSubscriptionForRenewalQuery = preparedQuery("read_subscription_for_renewal", (db) =>
  subscriptionForRenewal(db).prepare("read_subscription_for_renewal"),
);

/**
 * What {@link lockSubscriptionForRenewal} returns, read without a lock: its `version` is what
 * {@link insertRenewalAttemptIfUnchanged} checks.
 */
export async function readSubscriptionForRenewal(db: DbOrTx, subscriptionId: number) {
  const [row] = await readSubscriptionForRenewalQuery(db, { subscriptionId });
  return row ?? null;
}

const insertRenewalAttemptIfUnchangedQuery = preparedSql<
  Record<
    "subscriptionId" | "version" | "periodEnd" | "attemptNumber" | "amount" | "nextCheckAt" | "now",
    unknown
  >,
  { id: string }
>(
  "insert_renewal_attempt_if_unchanged",
  sql`insert into ${renewalAttempts} (subscription_id, period_end, attempt_number, status, amount, next_check_at, created_at, updated_at)
  select ${sql.placeholder("subscriptionId")}::bigint, ${sql.placeholder("periodEnd")}::timestamptz,
    ${sql.placeholder("attemptNumber")}::integer, 'pending', ${sql.placeholder("amount")}::bigint,
    ${sql.placeholder("nextCheckAt")}::timestamptz, ${sql.placeholder("now")}::timestamptz, ${sql.placeholder("now")}::timestamptz
  where exists (
    select 1 from ${subscriptions}
    where ${subscriptions.id} = ${sql.placeholder("subscriptionId")}::bigint
      and ${subscriptions}.xmin = ${sql.placeholder("version")}::xid
    for update of ${subscriptions}
  )
  returning id`,
);

/**
 * Inserts a `pending` renewal attempt only if the subscription row is still the version read
 * (`readSubscriptionForRenewal`), locking it for the insert as a transaction's
 * `lockSubscriptionForRenewal` would: so every check the caller made on that read still holds. A
 * transaction that changed or locked the row meanwhile is waited for and then re-checked against
 * the version. Returns the attempt id, or null when the row changed (nothing is written: the caller
 * decides again under the lock). The unique (subscription, period, attempt number) still refuses a
 * second attempt with the same number.
 */
export async function insertRenewalAttemptIfUnchanged(
  db: DbOrTx,
  input: {
    subscriptionId: number;
    version: string;
    periodEnd: Date;
    attemptNumber: number;
    amount: number;
    nextCheckAt: Date;
    now: Date;
  },
): Promise<number | null> {
  const [row] = await insertRenewalAttemptIfUnchangedQuery(db, {
    subscriptionId: input.subscriptionId,
    version: input.version,
    periodEnd: input.periodEnd.toISOString(),
    attemptNumber: input.attemptNumber,
    amount: input.amount,
    nextCheckAt: input.nextCheckAt.toISOString(),
    now: input.now.toISOString(),
  });
  return row ? Number(row.id) : null;
}

const lockRenewalAttemptQuery = preparedQuery("lock_renewal_attempt", (db) =>
  db
    .select()
    .from(renewalAttempts)
    .where(eq(renewalAttempts.id, sql.placeholder("attemptId")))
    .for("update")
    .prepare("lock_renewal_attempt"),
);

export async function lockRenewalAttempt(tx: DbOrTx, attemptId: number) {
  const [row] = await lockRenewalAttemptQuery(tx, { attemptId });
  return row ?? null;
}

const listPeriodAttemptsQuery = preparedQuery("list_period_attempts", (db) =>
  db
    .select()
    .from(renewalAttempts)
    .where(
      and(
        eq(renewalAttempts.subscriptionId, sql.placeholder("subscriptionId")),
        eq(renewalAttempts.periodEnd, sql.placeholder("periodEnd")),
      ),
    )
    .orderBy(asc(renewalAttempts.attemptNumber))
    .prepare("list_period_attempts"),
);

export async function listPeriodAttempts(db: DbOrTx, subscriptionId: number, periodEnd: Date) {
  // Placeholders reach the driver as they are: a timestamp goes as ISO text.
  return listPeriodAttemptsQuery(db, { subscriptionId, periodEnd: periodEnd.toISOString() });
}

const recordAttemptTransactionQuery = preparedQuery("record_attempt_transaction", (db) =>
  db
    .update(renewalAttempts)
    .set({
      externalId: sql.placeholder("externalId") as unknown as string,
      // Set here: drizzle would fill this `$onUpdate` column once, when the query is built.
      updatedAt: sql.placeholder("now") as unknown as Date,
    })
    .where(and(eq(renewalAttempts.id, sql.placeholder("attemptId")), eq(renewalAttempts.status, "pending")))
    .returning({ id: renewalAttempts.id })
    .prepare("record_attempt_transaction"),
);

/**
 * Records the ATMOS transaction on a still-pending attempt. Returns false when the attempt is no
 * longer pending (the janitor gave it up): the caller must then stop before any money can move.
 */
export async function recordAttemptTransaction(db: DbOrTx, attemptId: number, externalId: string, now: Date) {
  const rows = await recordAttemptTransactionQuery(db, { attemptId, externalId, now });
  return rows.length === 1;
}

// The subscription of the attempt, locked, still chargeable for the attempt's period with its card.
const chargeableSubscription = sql`exists (
  select 1 from ${subscriptions}
  inner join ${boundCards} on ${boundCards.id} = ${subscriptions.boundCardId}
  where ${subscriptions.id} = ${sql.placeholder("subscriptionId")}
    and ${subscriptions.status} in ('active', 'past_due')
    and ${subscriptions.autoRenew}
    and ${subscriptions.rail} = 'card'
    and ${subscriptions.endDate} = ${renewalAttempts.periodEnd}
    and ${boundCards.isActive}
    and ${boundCards.removedAt} is null
    and ${boundCards.cardToken} is not null
  for update of ${subscriptions}
)`;

const claimChargeableAttemptQuery = preparedQuery("claim_chargeable_attempt", (db) =>
  db
    .update(renewalAttempts)
    .set({ status: "unknown", updatedAt: sql.placeholder("now") as unknown as Date })
    .where(
      and(
        eq(renewalAttempts.id, sql.placeholder("attemptId")),
        eq(renewalAttempts.status, "pending"),
        chargeableSubscription,
      ),
    )
    .returning({ id: renewalAttempts.id })
    .prepare("claim_chargeable_attempt"),
);

/**
 * The last check before a renewal's charge call, in one statement: a `pending` attempt becomes
 * `unknown` (the charge may be sent from now on) only while its subscription is live, auto-renewing
 * on the card rail, still in the attempt's period, and its bound card usable. The subscription row
 * is locked (before the attempt's), so a cancel or card removal (each updates that row) either
 * committed first and is seen here (Postgres re-checks a row changed meanwhile against the
 * conditions), or waits for this claim and then sees the attempt in flight.
 * False: refused for one of those reasons, or the attempt is no longer pending; the caller finds out
 * which under its own locks.
 */
export async function claimChargeableAttempt(
  db: DbOrTx,
  input: { attemptId: number; subscriptionId: number; now: Date },
) {
  const rows = await claimChargeableAttemptQuery(db, input);
  return rows.length === 1;
}

/** Active subscriptions that ended without a way to renew (auto-renew off, or no usable card). */
export async function findEndedSubscriptions(db: DbOrTx, params: { now: Date; limit: number }) {
  return db
    .select({ id: subscriptions.id })
    .from(subscriptions)
    .leftJoin(boundCards, eq(boundCards.id, subscriptions.boundCardId))
    .where(
      and(
        eq(subscriptions.status, "active"),
        lte(subscriptions.endDate, params.now),
        or(
          eq(subscriptions.autoRenew, false),
          sql`${boundCards.id} is null`,
          eq(boundCards.isActive, false),
          sql`${boundCards.removedAt} is not null`,
        ),
      ),
    )
    .orderBy(asc(subscriptions.endDate))
    .limit(params.limit);
}

/** Past-due subscriptions whose grace period is over. */
export async function findGraceEndedSubscriptions(db: DbOrTx, params: { now: Date; limit: number }) {
  return db
    .select({ id: subscriptions.id })
    .from(subscriptions)
    .where(and(eq(subscriptions.status, "past_due"), lte(subscriptions.graceUntil, params.now)))
    .orderBy(asc(subscriptions.graceUntil))
    .limit(params.limit);
}

/**
 * Pending payment sessions past their expiry become `expired`, with their pending payment row
 * (`expirePaymentSessions`). Returns how many.
 */
export async function expireStalePaymentSessions(db: DbOrTx, now: Date) {
  return (await expirePaymentSessions(db, { now })).length;
}

/**
 * Auto-renewing active subscriptions whose charge (end_date − lead) is within `reminderMs` from now
 * and that got no reminder for this end_date yet.
 */
export async function findReminderCandidates(
  db: DbOrTx,
  params: { now: Date; leadMs: number; reminderMs: number; limit: number },
) {
  const horizon = new Date(params.now.getTime() + params.leadMs + params.reminderMs);
  const chargeStart = new Date(params.now.getTime() + params.leadMs);
  return db
    .select({
      subscriptionId: subscriptions.id,
      userId: subscriptions.userId,
      endDate: subscriptions.endDate,
      boundCardId: boundCards.id,
      cardExpiry: boundCards.expiry,
    })
    .from(subscriptions)
    .innerJoin(boundCards, eq(boundCards.id, subscriptions.boundCardId))
    .where(
      and(
        renewable,
        eq(subscriptions.status, "active"),
        lte(subscriptions.endDate, horizon),
        gt(subscriptions.endDate, chargeStart),
        or(
          sql`${subscriptions.reminderSentFor} is null`,
          sql`${subscriptions.reminderSentFor} <> ${subscriptions.endDate}`,
        ),
        eq(boundCards.isActive, true),
        sql`${boundCards.removedAt} is null`,
      ),
    )
    .orderBy(asc(subscriptions.endDate))
    .limit(params.limit);
}

/** Marks the reminder for this period as sent; false if another run marked it first. */
export async function markReminderSent(db: DbOrTx, subscriptionId: number, endDate: Date) {
  const rows = await db
    .update(subscriptions)
    .set({ reminderSentFor: endDate })
    .where(
      and(
        eq(subscriptions.id, subscriptionId),
        eq(subscriptions.endDate, endDate),
        or(
          sql`${subscriptions.reminderSentFor} is null`,
          sql`${subscriptions.reminderSentFor} <> ${endDate.toISOString()}::timestamptz`,
        ),
      ),
    )
    .returning({ id: subscriptions.id });
  return rows.length === 1;
}

export async function hasOpenAttempt(db: DbOrTx, subscriptionId: number, periodEnd: Date) {
  const rows = await db
    .select({ id: renewalAttempts.id })
    .from(renewalAttempts)
    .where(
      and(
        eq(renewalAttempts.subscriptionId, subscriptionId),
        eq(renewalAttempts.periodEnd, periodEnd),
        inArray(renewalAttempts.status, ["pending", "unknown"]),
      ),
    )
    .limit(1);
  return rows.length > 0;
}

/** Inserts a renewal attempt; returns its id. The unique (subscription, period, attempt number) refuses a second. */
export async function insertRenewalAttempt(tx: DbOrTx, values: NewRenewalAttempt) {
  const [row] = await insertRenewalAttemptQuery(tx, values);
  return row!.id;
}

// Once or more per renewal charge: prepared per set of columns (src/prepared.ts).
const insertRenewalAttemptQuery = preparedInsert<{ id: number }[]>(
  "insert_renewal_attempt",
  renewalAttempts,
  (q) => q.returning({ id: renewalAttempts.id }),
);
const updateRenewalAttemptQuery = preparedUpdateById(
  "update_renewal_attempt",
  renewalAttempts,
  renewalAttempts.id,
);

/** Writes the given columns of one renewal attempt (the money core decides which, under its lock). */
export async function updateRenewalAttempt(
  tx: DbOrTx,
  attemptId: number,
  set: Partial<Omit<NewRenewalAttempt, "id" | "subscriptionId" | "periodEnd" | "attemptNumber">>,
) {
  await updateRenewalAttemptQuery(tx, attemptId, set);
}

/** Like `updateRenewalAttempt`, but only while the attempt is still open (`pending` or `unknown`). */
export async function updateOpenRenewalAttempt(
  db: DbOrTx,
  attemptId: number,
  set: Partial<Omit<NewRenewalAttempt, "id" | "subscriptionId" | "periodEnd" | "attemptNumber">>,
) {
  const rows = await db
    .update(renewalAttempts)
    .set(set)
    .where(and(eq(renewalAttempts.id, attemptId), inArray(renewalAttempts.status, ["pending", "unknown"])))
    .returning({ id: renewalAttempts.id });
  return rows.length > 0;
}

/** Earliest decline (a failure that is not NOT_CHARGED) of the attempt's period: the retry schedule counts from it. */
export async function firstDeclineAt(
  db: DbOrTx,
  attempt: Pick<RenewalAttempt, "subscriptionId" | "periodEnd">,
): Promise<Date | null> {
  const [row] = await db
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
