import type { AdminPayment, AdminPaymentList } from "@obuna/contracts/http";
import type { GetServerSideProps } from "next";
import { ActionLink, AdminLayout, Badge, type Column, Filters, PagedTable } from "../../admin/components";
import { formatTashkent, orDash, userLabel } from "../../admin/format";
import { type AdminPageProps, listQuery, loadAdminPage } from "../../admin/server/guard";

const TONE = {
  success: "green",
  failed: "red",
  unknown: "amber",
  reversed: "gray",
  pending: "gray",
} as const;

const COLUMNS: ReadonlyArray<Column<AdminPayment>> = [
  { header: "#", cell: (p) => p.id },
  { header: "User", cell: (p) => userLabel(p.user) },
  { header: "Kind", cell: (p) => p.kind },
  { header: "Status", cell: (p) => <Badge value={p.status} tone={TONE[p.status]} /> },
  { header: "Amount", cell: (p) => <span className="whitespace-nowrap">{p.amount_formatted}</span> },
  { header: "Card", cell: (p) => orDash(p.card_masked) },
  { header: "ATMOS transaction", cell: (p) => orDash(p.transaction_id) },
  {
    header: "Receipt",
    cell: (p) =>
      p.receipt_url ? (
        <a href={p.receipt_url} target="_blank" rel="noopener noreferrer" className="text-blue-700 underline">
          receipt
        </a>
      ) : p.missing_receipt ? (
        <span data-testid="missing-receipt">
          <Badge value="no receipt" tone="red" />
        </span>
      ) : (
        "—"
      ),
  },
  {
    header: "Period",
    cell: (p) =>
      p.period_start ? `${formatTashkent(p.period_start)} → ${formatTashkent(p.period_end)}` : "—",
  },
  {
    header: "Error / refund",
    cell: (p) =>
      p.reversed_at
        ? `refunded ${formatTashkent(p.reversed_at)}: ${orDash(p.reverse_reason)}`
        : p.error_code
          ? `${p.error_code}: ${orDash(p.error_message)}`
          : "—",
  },
  { header: "Created", cell: (p) => formatTashkent(p.created_at) },
  {
    header: "Actions",
    cell: (p) =>
      p.refundable ? <ActionLink action="payment.refund" id={p.id} label="Refund" danger /> : null,
  },
];

/** `/admin/payments`: initial and renewal charges; refunds start here. */
export default function AdminPaymentsPage({ actor, result, flash, lang }: AdminPageProps<AdminPaymentList>) {
  return (
    <AdminLayout title="Payments" actor={actor} flash={flash} lang={lang}>
      <Filters
        selects={[
          {
            name: "status",
            label: "Status",
            options: ["pending", "success", "failed", "unknown", "reversed"],
          },
          { name: "kind", label: "Kind", options: ["initial", "renewal"] },
          // true = successful charges without a fiscal receipt
          { name: "without_receipt", label: "Without receipt", options: ["true", "false"] },
        ]}
      />
      <PagedTable result={result} columns={COLUMNS} empty="No payments match." />
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<AdminPageProps<AdminPaymentList>> = (ctx) =>
  loadAdminPage(ctx, (call, bearer) =>
    call<AdminPaymentList>({
      path: "payments",
      bearer,
      query: listQuery(ctx, ["status", "kind", "without_receipt", "search", "limit", "offset"]),
    }),
  );
