import type { AdminSubscription, AdminSubscriptionList } from "@obuna/contracts/http";
import type { GetServerSideProps } from "next";
import { ActionLink, AdminLayout, Badge, type Column, Filters, PagedTable } from "../../admin/components";
import { formatTashkent, orDash, userLabel } from "../../admin/format";
import { type AdminPageProps, listQuery, loadAdminPage } from "../../admin/server/guard";

const TONE = { active: "green", past_due: "amber", canceled: "gray", expired: "gray" } as const;

const COLUMNS: ReadonlyArray<Column<AdminSubscription>> = [
  { header: "#", cell: (s) => s.id },
  { header: "User", cell: (s) => userLabel(s.user) },
  { header: "Plan", cell: (s) => s.plan_slug },
  { header: "Status", cell: (s) => <Badge value={s.status} tone={TONE[s.status]} /> },
  { header: "Auto-renew", cell: (s) => (s.auto_renew ? "yes" : "no") },
  { header: "Start", cell: (s) => formatTashkent(s.start_date) },
  { header: "End", cell: (s) => <span data-testid="end-date">{formatTashkent(s.end_date)}</span> },
  { header: "Card", cell: (s) => orDash(s.card_masked) },
  {
    header: "Renewal",
    cell: (s) =>
      s.renewal_attempts > 0 || s.renewal_error
        ? `${s.renewal_attempts} attempts; ${orDash(s.renewal_error)}; next ${formatTashkent(s.next_renewal_at)}; grace until ${formatTashkent(s.grace_until)}`
        : "—",
  },
  { header: "Cancelled", cell: (s) => formatTashkent(s.cancelled_at) },
  {
    header: "Actions",
    cell: (s) =>
      s.status === "active" || s.status === "past_due" ? (
        <>
          <ActionLink action="subscription.extend" id={s.id} label="Extend" />
          <ActionLink action="subscription.cancel" id={s.id} label="Cancel" danger />
        </>
      ) : null,
  },
];

/** `/admin/subscriptions`: extend or cancel by hand. */
export default function AdminSubscriptionsPage({
  actor,
  result,
  flash,
  lang,
}: AdminPageProps<AdminSubscriptionList>) {
  return (
    <AdminLayout title="Subscriptions" actor={actor} flash={flash} lang={lang}>
      <Filters
        selects={[
          { name: "status", label: "Status", options: ["active", "past_due", "canceled", "expired"] },
          { name: "auto_renew", label: "Auto-renew", options: ["true", "false"] },
        ]}
      />
      <PagedTable result={result} columns={COLUMNS} empty="No subscriptions match." />
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<AdminPageProps<AdminSubscriptionList>> = (ctx) =>
  loadAdminPage(ctx, (call, bearer) =>
    call<AdminSubscriptionList>({
      path: "subscriptions",
      bearer,
      query: listQuery(ctx, ["status", "auto_renew", "search", "limit", "offset"]),
    }),
  );
