import type { AdminEventDelivery, AdminEventDeliveryList } from "@obuna/contracts/http";
import type { GetServerSideProps } from "next";
import { ActionLink, AdminLayout, Badge, type Column, Filters, PagedTable } from "../../admin/components";
import { formatTashkent, orDash } from "../../admin/format";
import { type AdminPageProps, listQuery, loadAdminPage } from "../../admin/server/guard";

const TONE = { delivered: "green", failed: "red", pending: "amber" } as const;

const COLUMNS: ReadonlyArray<Column<AdminEventDelivery>> = [
  { header: "#", cell: (d) => d.id },
  {
    header: "Event",
    cell: (d) => (
      <span>
        <span className="font-mono text-xs">{d.event_type}</span>
        <br />
        <span className="font-mono text-[10px] text-gray-500">{d.event_id}</span>
      </span>
    ),
  },
  { header: "Telegram id", cell: (d) => d.telegram_id },
  { header: "Endpoint", cell: (d) => <span className="break-all font-mono text-xs">{d.endpoint}</span> },
  { header: "Status", cell: (d) => <Badge value={d.status} tone={TONE[d.status]} /> },
  {
    header: "Attempts",
    cell: (d) => (d.generation > 1 ? `${d.attempts} (resent ×${d.generation - 1})` : d.attempts),
  },
  {
    header: "Last answer",
    cell: (d) => (
      <span data-testid="last-answer">
        {d.last_status_code ?? "—"}
        {d.last_error ? `: ${d.last_error}` : ""}
      </span>
    ),
  },
  {
    header: "Attempts log",
    cell: (d) =>
      d.recent_attempts.length === 0 ? (
        "—"
      ) : (
        <ul className="font-mono text-xs">
          {d.recent_attempts.map((a) => (
            <li key={`${a.created_at}-${a.generation}-${a.status_code}`} className="whitespace-nowrap">
              {formatTashkent(a.created_at)} · {a.status_code ?? "no answer"} · {a.duration_ms} ms
              {a.error ? ` · ${a.error}` : ""}
            </li>
          ))}
        </ul>
      ),
  },
  { header: "Delivered", cell: (d) => (d.delivered_at ? formatTashkent(d.delivered_at) : orDash(null)) },
  { header: "Created", cell: (d) => formatTashkent(d.created_at) },
  { header: "Actions", cell: (d) => <ActionLink action="event.resend" id={d.id} label="Resend" /> },
];

/** `/admin/events`: signed premium events × endpoints, their attempts, and a manual resend. */
export default function AdminEventsPage({
  actor,
  result,
  flash,
  lang,
}: AdminPageProps<AdminEventDeliveryList>) {
  return (
    <AdminLayout title="Signed events" actor={actor} flash={flash} lang={lang}>
      <Filters
        search={false}
        selects={[
          { name: "status", label: "Status", options: ["pending", "delivered", "failed"] },
          {
            name: "type",
            label: "Type",
            options: [
              "premium.started",
              "premium.renewed",
              "premium.past_due",
              "premium.canceled",
              "premium.ended",
              "premium.refunded",
            ],
          },
        ]}
        texts={[
          { name: "telegram_id", label: "Telegram id" },
          { name: "event_id", label: "Event id" },
        ]}
      />
      <PagedTable result={result} columns={COLUMNS} empty="No event deliveries match." />
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<AdminPageProps<AdminEventDeliveryList>> = (ctx) =>
  loadAdminPage(ctx, (call, bearer) =>
    call<AdminEventDeliveryList>({
      path: "event-deliveries",
      bearer,
      query: listQuery(ctx, ["status", "type", "telegram_id", "event_id", "limit", "offset"]),
    }),
  );
