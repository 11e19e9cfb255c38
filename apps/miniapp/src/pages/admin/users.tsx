import type { AdminUser, AdminUserList } from "@obuna/contracts/http";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import { AdminLayout, Badge, type Column, Filters, PagedTable } from "../../admin/components";
import { formatTashkent, orDash } from "../../admin/format";
import { type AdminPageProps, listQuery, loadAdminPage } from "../../admin/server/guard";

const COLUMNS: ReadonlyArray<Column<AdminUser>> = [
  { header: "#", cell: (u) => u.id },
  { header: "Telegram id", cell: (u) => u.telegram_id },
  { header: "Username", cell: (u) => (u.username ? `@${u.username}` : "—") },
  { header: "Name", cell: (u) => orDash(u.first_name) },
  { header: "Language", cell: (u) => orDash(u.language_code) },
  { header: "Role", cell: (u) => <Badge value={u.role} tone={u.role === "premium" ? "green" : "gray"} /> },
  {
    header: "Subscription",
    cell: (u) =>
      u.subscription_id ? (
        <Link href={`/admin/subscriptions?search=${u.telegram_id}`} className="text-blue-700 underline">
          #{u.subscription_id} until {formatTashkent(u.subscription_end_date)}
        </Link>
      ) : (
        "—"
      ),
  },
  { header: "Blocked the bot", cell: (u) => formatTashkent(u.bot_blocked_at) },
  { header: "Joined", cell: (u) => formatTashkent(u.created_at) },
  {
    header: "See",
    cell: (u) => (
      <span className="whitespace-nowrap text-xs">
        <Link href={`/admin/payments?search=${u.telegram_id}`} className="mr-2 text-blue-700 underline">
          payments
        </Link>
        <Link href={`/admin/cards?search=${u.telegram_id}`} className="text-blue-700 underline">
          cards
        </Link>
      </span>
    ),
  },
];

/** `/admin/users`: everyone who talked to the bot. */
export default function AdminUsersPage({ actor, result, flash, lang }: AdminPageProps<AdminUserList>) {
  return (
    <AdminLayout title="Users" actor={actor} flash={flash} lang={lang}>
      <Filters
        searchLabel="Search (Telegram id, @username)"
        selects={[{ name: "role", label: "Role", options: ["user", "premium", "admin"] }]}
      />
      <PagedTable result={result} columns={COLUMNS} empty="No users match." />
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<AdminPageProps<AdminUserList>> = (ctx) =>
  loadAdminPage(ctx, (call, bearer) =>
    call<AdminUserList>({
      path: "users",
      bearer,
      query: listQuery(ctx, ["role", "search", "limit", "offset"]),
    }),
  );
