import type { AdminDashboard, AdminDashboardSeries } from "@obuna/contracts/http";
import { formatSom } from "@obuna/contracts/money";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { perDay, SeriesChart } from "../../admin/charts";
import { AdminLayout, type Column, DataTable, Loaded } from "../../admin/components";
import { formatTashkent } from "../../admin/format";
import { tr, useTr } from "../../admin/i18n";
import { type AdminPageProps, loadAdminPage, queryValue } from "../../admin/server/guard";

interface DashboardData {
  figures: AdminDashboard;
  series: AdminDashboardSeries;
  /** The rail/plan filter of the charts ("" = all). */
  rail: string;
  plan: string;
}

function Tile({
  label,
  value,
  hint,
  href,
  alarm = false,
}: {
  label: string;
  value: ReactNode;
  hint?: ReactNode;
  href?: string;
  alarm?: boolean;
}) {
  const t = useTr();
  const body = (
    <>
      <span className="text-sm text-gray-600">{t(label)}</span>
      <span className={`text-2xl font-semibold ${alarm ? "text-red-700" : ""}`}>{value}</span>
      {hint && <span className="text-xs text-gray-500">{typeof hint === "string" ? t(hint) : hint}</span>}
    </>
  );
  const look = `flex flex-col gap-1 rounded border bg-white p-4 ${alarm ? "border-red-300" : "border-gray-200"}`;
  return (
    <div data-testid={`tile-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`}>
      {href ? (
        <Link href={href} className={`${look} hover:border-blue-400`}>
          {body}
        </Link>
      ) : (
        <div className={look}>{body}</div>
      )}
    </div>
  );
}

interface BreakdownRow {
  id: string;
  rail: string;
  plan: string;
  revenue: number;
  succeeded: number;
  failed: number;
  recovered: number;
  activeNow: number;
  churn30: string;
  churn90: string;
}

const percent = (v: number) => `${Math.round(v * 100)}%`;

function breakdown(s: AdminDashboardSeries): BreakdownRow[] {
  const rows = new Map<string, BreakdownRow>();
  const row = (rail: string, plan: string) => {
    const id = `${rail}|${plan}`;
    let r = rows.get(id);
    if (!r) {
      r = {
        id,
        rail,
        plan,
        revenue: 0,
        succeeded: 0,
        failed: 0,
        recovered: 0,
        activeNow: 0,
        churn30: "—",
        churn90: "—",
      };
      rows.set(id, r);
    }
    return r;
  };
  const today = s.dates.at(-1);
  for (const r of s.revenue) row(r.rail, r.plan_slug).revenue += r.amount;
  for (const r of s.renewals) {
    const b = row(r.rail, r.plan_slug);
    b.succeeded += r.succeeded;
    b.failed += r.failed;
    b.recovered += r.recovered;
  }
  for (const r of s.active) if (r.date === today) row(r.rail, r.plan_slug).activeNow += r.count;
  for (const c of s.churn) {
    const b = row(c.rail, c.plan_slug);
    const text = `${percent(c.rate)} (${c.churned}/${c.base})`;
    if (c.window_days === 30) b.churn30 = text;
    else b.churn90 = text;
  }
  return [...rows.values()].sort((a, b) => a.id.localeCompare(b.id));
}

const BREAKDOWN: ReadonlyArray<Column<BreakdownRow>> = [
  { header: "Rail", cell: (r) => r.rail },
  { header: "Plan", cell: (r) => r.plan },
  { header: "Revenue", cell: (r) => <span className="whitespace-nowrap">{formatSom(r.revenue)}</span> },
  { header: "Succeeded", cell: (r) => r.succeeded },
  { header: "Failed", cell: (r) => r.failed },
  { header: "Recovered", cell: (r) => r.recovered },
  { header: "Active now", cell: (r) => r.activeNow },
  { header: "Churn 30 days", cell: (r) => r.churn30 },
  { header: "Churn 90 days", cell: (r) => r.churn90 },
];

function Charts({ data, lang }: { data: DashboardData; lang: AdminPageProps<DashboardData>["lang"] }) {
  const t = (english: string) => tr(lang, english);
  const s = data.series;
  const keep = (r: { rail: string; plan_slug: string }) =>
    (!data.rail || r.rail === data.rail) && (!data.plan || r.plan_slug === data.plan);
  const revenue = perDay(s.dates, s.revenue, (r) => r.amount, keep);
  const succeeded = perDay(s.dates, s.renewals, (r) => r.succeeded, keep);
  const failed = perDay(s.dates, s.renewals, (r) => r.failed, keep);
  const rate = succeeded.map((ok, i) => (ok + failed[i]! === 0 ? 0 : ok / (ok + failed[i]!)));
  const recovered = perDay(s.dates, s.renewals, (r) => r.recovered_amount, keep);
  const active = perDay(s.dates, s.active, (r) => r.count, keep);
  const som = (tiyin: number) => formatSom(Math.round(tiyin));
  const windowLink = (days: 30 | 90) => {
    const q = new URLSearchParams({
      days: String(days),
      ...(data.rail ? { rail: data.rail } : {}),
      ...(data.plan ? { plan: data.plan } : {}),
    });
    return `/admin?${q.toString()}`;
  };
  return (
    <section className="flex flex-col gap-3" aria-label={t("By rail and plan")}>
      <form method="get" className="flex flex-wrap items-end gap-3 text-sm" data-testid="series-filter">
        <input type="hidden" name="days" value={s.days} />
        <Link
          href={windowLink(30)}
          aria-current={s.days === 30 ? "page" : undefined}
          className={`rounded px-2 py-1 ${s.days === 30 ? "bg-gray-800 text-white" : "text-blue-700"}`}
        >
          {t("Last 30 days")}
        </Link>
        <Link
          href={windowLink(90)}
          aria-current={s.days === 90 ? "page" : undefined}
          className={`rounded px-2 py-1 ${s.days === 90 ? "bg-gray-800 text-white" : "text-blue-700"}`}
        >
          {t("Last 90 days")}
        </Link>
        <label className="flex flex-col gap-1">
          <span className="text-gray-600">{t("Rail")}</span>
          <select name="rail" defaultValue={data.rail} className="rounded border border-gray-300 px-2 py-1">
            <option value="">{t("any")}</option>
            {s.rails.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1">
          <span className="text-gray-600">{t("Plan")}</span>
          <select name="plan" defaultValue={data.plan} className="rounded border border-gray-300 px-2 py-1">
            <option value="">{t("any")}</option>
            {s.plans.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="rounded bg-blue-600 px-3 py-1.5 font-semibold text-white">
          {t("Apply")}
        </button>
      </form>
      <div className="grid grid-cols-1 gap-3 lg:grid-cols-2">
        <SeriesChart
          title={t("Revenue per day")}
          testId="chart-revenue"
          dates={s.dates}
          values={revenue}
          kind="bar"
          format={som}
        />
        <SeriesChart
          title={t("Renewal success rate")}
          testId="chart-renewal-rate"
          dates={s.dates}
          values={rate}
          kind="line"
          max={1}
          format={percent}
        />
        <SeriesChart
          title={t("Dunning recoveries")}
          testId="chart-recoveries"
          dates={s.dates}
          values={recovered}
          kind="bar"
          format={som}
        />
        <SeriesChart
          title={t("Active subscribers")}
          testId="chart-active"
          dates={s.dates}
          values={active}
          kind="line"
          format={(v) => String(Math.round(v))}
        />
      </div>
      <h2 className="text-lg font-semibold">{t("By rail and plan")}</h2>
      <DataTable rows={breakdown(s)} columns={BREAKDOWN} empty="No data yet." />
    </section>
  );
}

/** `/admin`: the numbers to look at first, then the charts of the last 30 or 90 days. */
export default function AdminDashboardPage({ actor, result, flash, lang }: AdminPageProps<DashboardData>) {
  return (
    <AdminLayout title="Dashboard" actor={actor} flash={flash} lang={lang}>
      <Loaded result={result}>
        {({ figures: d, ...rest }) => (
          <>
            <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
              <Tile
                label="Active subscriptions"
                value={d.active_subscriptions}
                href="/admin/subscriptions?status=active"
              />
              <Tile
                label="Monthly recurring revenue"
                value={d.mrr_formatted}
                hint="auto-renewing plans, per 30 days"
              />
              <Tile
                label="Renewals, last 30 days"
                value={`${d.renewals_last_30_days.succeeded} ok / ${d.renewals_last_30_days.failed} failed`}
                alarm={d.renewals_last_30_days.failed > 0}
              />
              <Tile
                label="Payments today"
                value={d.payments_today.count}
                hint={`${d.payments_today.sum_formatted} since ${formatTashkent(d.payments_today.since)} (Tashkent)`}
                href="/admin/payments?status=success"
              />
              <Tile
                label="Stuck sessions"
                value={d.stuck_sessions}
                hint="processing for more than 10 minutes"
                href="/admin/payment-sessions?status=processing"
                alarm={d.stuck_sessions > 0}
              />
              <Tile
                label="Unknown outcomes"
                value={d.unknown_outcomes.payments + d.unknown_outcomes.renewal_attempts}
                hint={`${d.unknown_outcomes.payments} payments, ${d.unknown_outcomes.renewal_attempts} renewal attempts — run pnpm reconcile`}
                href="/admin/payments?status=unknown"
                alarm={d.unknown_outcomes.payments + d.unknown_outcomes.renewal_attempts > 0}
              />
            </div>
            <p className="text-xs text-gray-500">
              Figures as of {formatTashkent(d.generated_at)} Tashkent time (UTC+5).
            </p>
            <Charts data={{ figures: d, ...rest }} lang={lang} />
          </>
        )}
      </Loaded>
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<AdminPageProps<DashboardData>> = (ctx) =>
  loadAdminPage<DashboardData>(ctx, async (call, bearer) => {
    const days = queryValue(ctx, "days") === "90" ? "90" : "30";
    const [figures, series] = await Promise.all([
      call<AdminDashboard>({ path: "dashboard", bearer }),
      call<AdminDashboardSeries>({ path: "dashboard/series", bearer, query: { days } }),
    ]);
    if (!figures.ok) return figures;
    if (!series.ok) return series;
    const pick = (name: string, allowed: readonly string[]) => {
      const value = queryValue(ctx, name) ?? "";
      return allowed.includes(value) ? value : "";
    };
    return {
      ok: true,
      data: {
        figures: figures.data,
        series: series.data,
        rail: pick("rail", series.data.rails),
        plan: pick("plan", series.data.plans),
      },
    };
  });
