import { and, count, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { renewalAttempts } from "../schema/index";
import { type ReportRow, TASHKENT_TZ } from "./calendar";

/** Read-side figures over renewal_attempts (admin dashboard, /metrics). The renewal writes are in ./renewals. */

/** Attempts created since `since` that ended `success` or `failed`, counted by status. */
export async function countResolvedRenewalAttemptsSince(db: DbOrTx, since: Date) {
  return db
    .select({ status: renewalAttempts.status, n: count() })
    .from(renewalAttempts)
    .where(and(gte(renewalAttempts.createdAt, since), inArray(renewalAttempts.status, ["success", "failed"])))
    .groupBy(renewalAttempts.status);
}

/** Attempts created since `since`, counted by status (the obuna_renewal_attempts_24h gauge). */
export async function countRenewalAttemptsSince(db: DbOrTx, since: Date) {
  return db
    .select({ status: renewalAttempts.status, n: count() })
    .from(renewalAttempts)
    .where(gte(renewalAttempts.createdAt, since))
    .groupBy(renewalAttempts.status);
}

/** Attempts whose charge outcome is still unknown. */
export async function countUnknownRenewalAttempts(db: DbOrTx): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(renewalAttempts)
    .where(eq(renewalAttempts.status, "unknown"));
  return Number(row?.n ?? 0);
}

/**
 * Renewal outcomes by the Tashkent day an attempt was resolved, rail and plan slug, between `since`
 * and `now`: `succeeded` vs `failed` (card declines; NOT_CHARGED:* never reached the card and is not
 * counted); `recovered` = successes of a period's 2nd+ attempt (dunning), with their amount.
 */
export async function renewalOutcomesByDay(db: DbOrTx, window: { since: Date; now: Date }) {
  const sinceIso = window.since.toISOString();
  const nowIso = window.now.toISOString();
  return (await db.execute(sql`
    select to_char((a.resolved_at at time zone ${TASHKENT_TZ})::date, 'YYYY-MM-DD') as date,
           'atmos' as rail, pl.slug as plan_slug,
           count(*) filter (where a.status = 'success')::int as succeeded,
           count(*) filter (where a.status = 'failed')::int as failed,
           count(*) filter (where a.status = 'success' and a.attempt_number > 1)::int as recovered,
           coalesce(sum(a.amount) filter (where a.status = 'success' and a.attempt_number > 1), 0)::bigint as recovered_amount
    from renewal_attempts a
    join subscriptions s on s.id = a.subscription_id
    join plans pl on pl.id = s.plan_id
    where a.resolved_at >= ${sinceIso}::timestamptz and a.resolved_at <= ${nowIso}::timestamptz
      and (a.status = 'success' or (a.status = 'failed' and coalesce(a.error_code, '') not like 'NOT_CHARGED:%'))
    group by 1, 2, 3 order by 1, 2, 3
  `)) as unknown as ReportRow[];
}

/** What a provider callback for a renewal charge is checked against: the attempt's payment, amount and status. */
export async function getRenewalAttemptCharge(db: DbOrTx, attemptId: number) {
  const [row] = await db
    .select({
      externalId: renewalAttempts.externalId,
      amount: renewalAttempts.amount,
      status: renewalAttempts.status,
    })
    .from(renewalAttempts)
    .where(eq(renewalAttempts.id, attemptId));
  return row ?? null;
}

/** Attempts created at or after `since` still pending/unknown, last touched before `updatedBefore`. */
export async function listUnresolvedRenewalAttempts(db: DbOrTx, o: { since: Date; updatedBefore: Date }) {
  return db
    .select()
    .from(renewalAttempts)
    .where(
      and(
        inArray(renewalAttempts.status, ["pending", "unknown"]),
        gte(renewalAttempts.createdAt, o.since),
        lt(renewalAttempts.updatedAt, o.updatedBefore),
      ),
    );
}

/** The subscription and period each of these attempts charged for. */
export async function listRenewalAttemptPeriods(db: DbOrTx, ids: number[]) {
  if (ids.length === 0) return [];
  return db
    .select({
      id: renewalAttempts.id,
      subscriptionId: renewalAttempts.subscriptionId,
      periodEnd: renewalAttempts.periodEnd,
    })
    .from(renewalAttempts)
    .where(inArray(renewalAttempts.id, ids));
}
