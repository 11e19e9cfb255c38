import type { AdminDashboardSeries } from "@obuna/contracts/http";
import type { DbOrTx } from "@obuna/db";
import { sql } from "drizzle-orm";

/**
 * The dashboard's time series (GET /api/v1/admin/dashboard/series), in SQL over payments,
 * subscriptions and renewal_attempts. Days are Asia/Tashkent calendar days; every figure is split by
 * rail (payments.provider; renewal attempts are ATMOS card-token charges) and plan slug.
 *
 * Definitions (docs/admin.md "Dashboard"):
 * - revenue: successful payments (a refunded payment is `reversed`, so it drops out) by the day the
 *   payment row was created;
 * - renewals: attempts resolved that day, `succeeded` vs `failed` (card declines; NOT_CHARGED:* never
 *   reached the card and is not counted); `recovered` = successes of a period's 2nd+ attempt (dunning);
 * - active: subscriptions whose access covers the end of the day (now for today): start_date <= t <
 *   access end, where access ends at end_date, at grace_until for past_due, at cancelled_at for
 *   subscriptions an admin canceled;
 * - churn over N days: of the subscriptions active N days ago, those not active now.
 */

const TZ = "Asia/Tashkent";

/** The instant a subscription's access ends, as SQL over the row aliased `s`. */
const ACCESS_END = sql.raw(`(case s.status
  when 'canceled' then least(s.end_date, coalesce(s.cancelled_at, s.end_date))
  when 'past_due' then greatest(s.end_date, coalesce(s.grace_until, s.end_date))
  else s.end_date end)`);
/** A subscription's rail: the provider of its first payment (all ATMOS today). */
const SUB_RAIL = sql.raw(
  `coalesce((select p1.provider::text from payments p1 where p1.subscription_id = s.id order by p1.id limit 1), 'atmos')`,
);

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v ?? 0);

export async function dashboardSeries(db: DbOrTx, now: Date, days: 30 | 90): Promise<AdminDashboardSeries> {
  const nowIso = now.toISOString();
  const [window] = (await db.execute(sql`
    select (${nowIso}::timestamptz at time zone ${TZ})::date - ${days - 1}::int as first_day,
           ((((${nowIso}::timestamptz at time zone ${TZ})::date - ${days - 1}::int)::timestamp) at time zone ${TZ}) as since
  `)) as unknown as Row[];
  const since = new Date(String(window!.since));
  const sinceIso = since.toISOString();

  const dates = (
    (await db.execute(sql`
      select to_char(d, 'YYYY-MM-DD') as date
      from generate_series(${String(window!.first_day)}::date, (${nowIso}::timestamptz at time zone ${TZ})::date, interval '1 day') d
      order by d
    `)) as unknown as Row[]
  ).map((r) => String(r.date));

  const revenue = (await db.execute(sql`
    select to_char((p.created_at at time zone ${TZ})::date, 'YYYY-MM-DD') as date,
           p.provider::text as rail, pl.slug as plan_slug,
           sum(p.amount)::bigint as amount, count(*)::int as count
    from payments p
    left join subscriptions s on s.id = p.subscription_id
    left join payment_sessions ps on ps.id = p.session_id
    join plans pl on pl.id = coalesce(s.plan_id, ps.plan_id)
    where p.status = 'success' and p.created_at >= ${sinceIso}::timestamptz and p.created_at <= ${nowIso}::timestamptz
    group by 1, 2, 3 order by 1, 2, 3
  `)) as unknown as Row[];

  const renewals = (await db.execute(sql`
    select to_char((a.resolved_at at time zone ${TZ})::date, 'YYYY-MM-DD') as date,
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
  `)) as unknown as Row[];

  const active = (await db.execute(sql`
    with days as (
      select d::date as day,
             least(${nowIso}::timestamptz, ((d::date + 1)::timestamp at time zone ${TZ})) as at
      from generate_series(${String(window!.first_day)}::date, (${nowIso}::timestamptz at time zone ${TZ})::date, interval '1 day') d
    ), subs as (
      select s.start_date, ${ACCESS_END} as access_end, ${SUB_RAIL} as rail, pl.slug as plan_slug
      from subscriptions s join plans pl on pl.id = s.plan_id
    )
    select to_char(days.day, 'YYYY-MM-DD') as date, subs.rail, subs.plan_slug, count(*)::int as count
    from days join subs on subs.start_date <= days.at and subs.access_end > days.at
    group by 1, 2, 3 order by 1, 2, 3
  `)) as unknown as Row[];

  const churn: AdminDashboardSeries["churn"] = [];
  for (const windowDays of [30, 90] as const) {
    const from = new Date(now.getTime() - windowDays * 86_400_000).toISOString();
    const rows = (await db.execute(sql`
      with subs as (
        select s.start_date, ${ACCESS_END} as access_end, ${SUB_RAIL} as rail, pl.slug as plan_slug
        from subscriptions s join plans pl on pl.id = s.plan_id
      )
      select rail, plan_slug, count(*)::int as base,
             count(*) filter (where access_end <= ${nowIso}::timestamptz)::int as churned
      from subs
      where start_date <= ${from}::timestamptz and access_end > ${from}::timestamptz
      group by 1, 2 order by 1, 2
    `)) as unknown as Row[];
    for (const r of rows) {
      const base = num(r.base);
      const churned = num(r.churned);
      churn.push({
        window_days: windowDays,
        rail: String(r.rail),
        plan_slug: String(r.plan_slug),
        base,
        churned,
        rate: base === 0 ? 0 : churned / base,
      });
    }
  }

  const planRows = (await db.execute(
    sql`select slug from plans order by sort_order, id`,
  )) as unknown as Row[];
  const rails = new Set<string>(["atmos"]);
  for (const r of [...revenue, ...active]) rails.add(String(r.rail));

  return {
    generated_at: nowIso,
    days,
    dates,
    rails: [...rails].sort(),
    plans: planRows.map((r) => String(r.slug)),
    revenue: revenue.map((r) => ({
      date: String(r.date),
      rail: String(r.rail),
      plan_slug: String(r.plan_slug),
      amount: num(r.amount),
      count: num(r.count),
    })),
    renewals: renewals.map((r) => ({
      date: String(r.date),
      rail: String(r.rail),
      plan_slug: String(r.plan_slug),
      succeeded: num(r.succeeded),
      failed: num(r.failed),
      recovered: num(r.recovered),
      recovered_amount: num(r.recovered_amount),
    })),
    active: active.map((r) => ({
      date: String(r.date),
      rail: String(r.rail),
      plan_slug: String(r.plan_slug),
      count: num(r.count),
    })),
    churn,
  };
}
