import type { AdminAuditEntry, AdminAuditList } from "@obuna/contracts/http";
import type { GetServerSideProps } from "next";
import { AdminLayout, type Column, Filters, PagedTable } from "../../admin/components";
import { formatTashkent, orDash } from "../../admin/format";
import { type AdminPageProps, listQuery, loadAdminPage } from "../../admin/server/guard";

const COLUMNS: ReadonlyArray<Column<AdminAuditEntry>> = [
  { header: "#", cell: (a) => a.id },
  { header: "When", cell: (a) => <span className="whitespace-nowrap">{formatTashkent(a.created_at)}</span> },
  { header: "Who", cell: (a) => a.actor },
  { header: "What", cell: (a) => <span className="font-mono text-xs">{a.action}</span> },
  { header: "On", cell: (a) => `${a.entity_type} #${a.entity_id}` },
  { header: "Why", cell: (a) => orDash(a.reason) },
  {
    header: "Details",
    cell: (a) =>
      a.details === null || a.details === undefined ? (
        "—"
      ) : (
        <pre className="max-w-md whitespace-pre-wrap break-all font-mono text-xs">
          {JSON.stringify(a.details)}
        </pre>
      ),
  },
];

/** `/admin/audit-log`: who did what, why and when (newest first). */
export default function AdminAuditLogPage({ actor, result, flash, lang }: AdminPageProps<AdminAuditList>) {
  return (
    <AdminLayout title="Audit log" actor={actor} flash={flash} lang={lang}>
      <Filters
        search={false}
        texts={[
          { name: "entity_type", label: "Entity type" },
          { name: "entity_id", label: "Entity id" },
          { name: "actor", label: "Who" },
          { name: "action", label: "Action" },
        ]}
      />
      <PagedTable result={result} columns={COLUMNS} empty="No audit entries match." />
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<AdminPageProps<AdminAuditList>> = (ctx) =>
  loadAdminPage(ctx, (call, bearer) =>
    call<AdminAuditList>({
      path: "audit-log",
      bearer,
      query: listQuery(ctx, ["entity_type", "entity_id", "actor", "action", "limit", "offset"]),
    }),
  );
