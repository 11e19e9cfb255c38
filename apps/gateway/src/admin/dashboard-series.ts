import type { AdminDashboardSeries } from "@obuna/contracts/http";
import type { DbOrTx } from "@obuna/db";
import {
  activeSubscriptionsByDay,
  listPlanSlugs,
  renewalOutcomesByDay,
  revenueByDay,
  subscriptionChurn,
  tashkentDayWindow,
} from "@obuna/db/queries";

/**
 * The dashboard's time series (GET /api/v1/admin/dashboard/series), from SQL over payments,
 * subscriptions and renewal_attempts (packages/db queries). Days are Asia/Tashkent calendar days;
 * every figure is split by rail (payments.provider; renewal attempts are ATMOS card-token charges)
 * and plan slug.
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

const num = (v: unknown) => Number(v ?? 0);

export async function dashboardSeries(db: DbOrTx, now: Date, days: 30 | 90): Promise<AdminDashboardSeries> {
  const nowIso = now.toISOString();
  const { firstDay, since, dates } = await tashkentDayWindow(db, now, days);

  const revenue = await revenueByDay(db, { since, now });
  const renewals = await renewalOutcomesByDay(db, { since, now });
  const active = await activeSubscriptionsByDay(db, { firstDay, now });

  const churn: AdminDashboardSeries["churn"] = [];
  for (const windowDays of [30, 90] as const) {
    const from = new Date(now.getTime() - windowDays * 86_400_000);
    const rows = await subscriptionChurn(db, { from, now });
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

  const planSlugs = await listPlanSlugs(db);
  const rails = new Set<string>(["atmos"]);
  for (const r of [...revenue, ...active]) rails.add(String(r.rail));

  return {
    generated_at: nowIso,
    days,
    dates,
    rails: [...rails].sort(),
    plans: planSlugs,
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
