import type { AdminPaymentSession, AdminPaymentSessionList } from "@obuna/contracts/http";
import type { GetServerSideProps } from "next";
import { AdminLayout, Badge, type Column, Filters, PagedTable } from "../../admin/components";
import { formatTashkent, orDash, userLabel } from "../../admin/format";
import { type AdminPageProps, listQuery, loadAdminPage } from "../../admin/server/guard";

const TONE = {
  completed: "green",
  failed: "red",
  processing: "amber",
  pending: "gray",
  expired: "gray",
} as const;

const COLUMNS: ReadonlyArray<Column<AdminPaymentSession>> = [
  {
    header: "Session",
    cell: (s) => (
      <span className="font-mono text-xs" title={s.id}>
        {s.id.slice(0, 8)}…
      </span>
    ),
  },
  { header: "User", cell: (s) => userLabel(s.user) },
  { header: "Plan", cell: (s) => s.plan_slug },
  { header: "Status", cell: (s) => <Badge value={s.status} tone={TONE[s.status]} /> },
  { header: "Amount", cell: (s) => <span className="whitespace-nowrap">{s.amount_formatted}</span> },
  {
    header: "Payment link",
    cell: (s) => (
      <a href={s.payment_url} className="text-blue-700 underline" rel="noreferrer">
        open
      </a>
    ),
  },
  { header: "Card", cell: (s) => orDash(s.card_masked) },
  { header: "Auto-renew", cell: (s) => (s.auto_renew ? "yes" : "no") },
  { header: "ATMOS transaction", cell: (s) => orDash(s.transaction_id) },
  { header: "OTP tries", cell: (s) => s.otp_attempts },
  {
    header: "Payment",
    cell: (s) => (s.payment_id ? `#${s.payment_id} ${orDash(s.payment_status)}` : "—"),
  },
  { header: "Failure", cell: (s) => orDash(s.failure_reason) },
  {
    header: "Times",
    cell: (s) => (
      <span className="whitespace-nowrap text-xs">
        created {formatTashkent(s.created_at)}
        <br />
        updated {formatTashkent(s.updated_at)}
        <br />
        expires {formatTashkent(s.expires_at)}
        <br />
        completed {formatTashkent(s.completed_at)}
      </span>
    ),
  },
];

/** `/admin/payment-sessions`: every checkout link the bot handed out and where it got to. */
export default function AdminPaymentSessionsPage({
  actor,
  result,
  flash,
  lang,
}: AdminPageProps<AdminPaymentSessionList>) {
  return (
    <AdminLayout title="Payment sessions" actor={actor} flash={flash} lang={lang}>
      <Filters
        selects={[
          {
            name: "status",
            label: "Status",
            options: ["pending", "processing", "completed", "failed", "expired"],
          },
        ]}
      />
      <PagedTable result={result} columns={COLUMNS} empty="No payment sessions match." />
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<AdminPageProps<AdminPaymentSessionList>> = (ctx) =>
  loadAdminPage(ctx, (call, bearer) =>
    call<AdminPaymentSessionList>({
      path: "payment-sessions",
      bearer,
      query: listQuery(ctx, ["status", "search", "limit", "offset"]),
    }),
  );
