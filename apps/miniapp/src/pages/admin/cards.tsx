import type { AdminBoundCard, AdminCardList } from "@obuna/contracts/http";
import type { GetServerSideProps } from "next";
import { ActionLink, AdminLayout, Badge, type Column, Filters, PagedTable } from "../../admin/components";
import { formatTashkent, userLabel } from "../../admin/format";
import { type AdminPageProps, listQuery, loadAdminPage } from "../../admin/server/guard";

function cardState(card: AdminBoundCard) {
  if (card.removed_at) return <Badge value="removed" tone="red" />;
  return card.is_active ? <Badge value="active" tone="green" /> : <Badge value="inactive" tone="amber" />;
}

const COLUMNS: ReadonlyArray<Column<AdminBoundCard>> = [
  { header: "#", cell: (c) => c.id },
  { header: "User", cell: (c) => userLabel(c.user) },
  { header: "Card", cell: (c) => <span className="font-mono">{c.pan_masked}</span> },
  { header: "Type", cell: (c) => c.card_type },
  { header: "Expiry (YYMM)", cell: (c) => c.expiry },
  { header: "ATMOS card id", cell: (c) => c.card_id },
  { header: "State", cell: (c) => <span data-testid="card-state">{cardState(c)}</span> },
  { header: "Last used", cell: (c) => formatTashkent(c.last_used_at) },
  { header: "Saved", cell: (c) => formatTashkent(c.created_at) },
  {
    header: "Actions",
    cell: (c) =>
      c.removed_at ? null : (
        <>
          {c.is_active ? (
            <ActionLink action="card.deactivate" id={c.id} label="Deactivate" />
          ) : (
            <ActionLink action="card.reactivate" id={c.id} label="Reactivate" />
          )}
          <ActionLink action="card.remove" id={c.id} label="Remove at ATMOS" danger />
        </>
      ),
  },
];

/** `/admin/cards`: bound cards (tokens never leave the gateway; only the mask is shown). */
export default function AdminCardsPage({ actor, result, flash, lang }: AdminPageProps<AdminCardList>) {
  return (
    <AdminLayout title="Bound cards" actor={actor} flash={flash} lang={lang}>
      <Filters selects={[{ name: "active", label: "Usable", options: ["true", "false"] }]} />
      <PagedTable result={result} columns={COLUMNS} empty="No cards match." />
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<AdminPageProps<AdminCardList>> = (ctx) =>
  loadAdminPage(ctx, (call, bearer) =>
    call<AdminCardList>({
      path: "cards",
      bearer,
      query: listQuery(ctx, ["active", "search", "limit", "offset"]),
    }),
  );
