import type { AdminDashboard } from "@obuna/contracts/http";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { AdminLayout, Loaded } from "../../admin/components";
import { formatTashkent } from "../../admin/format";
import { type AdminPageProps, loadAdminPage } from "../../admin/server/guard";

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
  const body = (
    <>
      <span className="text-sm text-gray-600">{label}</span>
      <span className={`text-2xl font-semibold ${alarm ? "text-red-700" : ""}`}>{value}</span>
      {hint && <span className="text-xs text-gray-500">{hint}</span>}
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

/** `/admin`: the numbers to look at first. */
export default function AdminDashboardPage({ actor, result, flash }: AdminPageProps<AdminDashboard>) {
  return (
    <AdminLayout title="Dashboard" actor={actor} flash={flash}>
      <Loaded result={result}>
        {(d) => (
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
          </>
        )}
      </Loaded>
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<AdminPageProps<AdminDashboard>> = (ctx) =>
  loadAdminPage(ctx, (call, bearer) => call<AdminDashboard>({ path: "dashboard", bearer }));
