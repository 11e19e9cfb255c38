import type { AdminPlan, AdminPlanList } from "@obuna/contracts/http";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import { AdminLayout, Badge, type Column, DataTable, Loaded } from "../../admin/components";
import { formatTashkent } from "../../admin/format";
import { tr } from "../../admin/i18n";
import { planFormHref } from "../../admin/plans";
import { type AdminPageProps, loadAdminPage } from "../../admin/server/guard";

const link = "mr-2 whitespace-nowrap rounded border px-2 py-0.5 text-xs font-semibold";

function columns(t: (s: string) => string): ReadonlyArray<Column<AdminPlan>> {
  return [
    { header: "#", cell: (p) => p.id },
    { header: "Slug", cell: (p) => <span className="font-mono">{p.slug}</span> },
    {
      header: "Name",
      cell: (p) => (
        <span className="flex flex-col">
          <span lang="uz">{p.name_uz}</span>
          <span lang="ru">{p.name_ru}</span>
          <span lang="en">{p.name_en}</span>
        </span>
      ),
    },
    {
      header: "Price",
      cell: (p) => (
        <span className="whitespace-nowrap" data-testid="plan-price">
          {p.price_formatted}
        </span>
      ),
    },
    { header: "Period (days)", cell: (p) => p.duration_days },
    {
      header: "Active",
      cell: (p) =>
        p.is_active ? <Badge value="active" tone="green" /> : <Badge value="inactive" tone="amber" />,
    },
    { header: "Sort order", cell: (p) => p.sort_order },
    {
      header: "Stars",
      cell: (p) => (
        <span data-testid="plan-stars-price">{p.stars_price === null ? "—" : `${p.stars_price} ⭐`}</span>
      ),
    },
    {
      header: "Fiscal receipt",
      cell: (p) => (
        <span className="flex flex-col whitespace-nowrap text-xs" data-testid="plan-fiscal">
          <span>
            {t("IKPU")} <span className="font-mono">{p.ikpu_code}</span>
          </span>
          <span>
            {t("Package")} <span className="font-mono">{p.package_code}</span>
          </span>
          <span>
            {t("VAT")} {p.vat_percent}%
          </span>
          {p.fiscal_placeholder && (
            <span className="font-semibold text-red-700" data-testid="plan-fiscal-placeholder">
              {t("placeholder — set before going live")}
            </span>
          )}
        </span>
      ),
    },
    { header: "Live subscriptions", cell: (p) => p.live_subscriptions },
    { header: "On another price", cell: (p) => p.on_other_price },
    { header: "Created", cell: (p) => formatTashkent(p.created_at) },
    {
      header: "Actions",
      cell: (p) => (
        <>
          <Link href={planFormHref("edit", p.id)} className={`${link} border-blue-400 text-blue-700`}>
            {t("Edit")}
          </Link>
          <Link href={planFormHref("price", p.id)} className={`${link} border-red-400 text-red-700`}>
            {t("Change price")}
          </Link>
        </>
      ),
    },
  ];
}

/** `/admin/plans`: every plan; create, edit and reprice through their confirmation forms. */
export default function AdminPlansPage({ actor, result, flash, lang }: AdminPageProps<AdminPlanList>) {
  const t = (english: string) => tr(lang, english);
  return (
    <AdminLayout title="Plans" actor={actor} flash={flash} lang={lang}>
      <Loaded result={result}>
        {(list) => (
          <>
            <p className="text-sm text-gray-700">
              {t(
                "New purchases pay the new price at once. Subscribers keep their price until they were notified and the notice period passed:",
              )}{" "}
              <strong data-testid="notice-days">
                {list.price_change_notice_days} {t("days")}
              </strong>
            </p>
            <div>
              <Link
                href={planFormHref("create")}
                className="rounded bg-blue-600 px-3 py-1.5 text-sm font-semibold text-white"
              >
                {t("New plan")}
              </Link>
            </div>
            <DataTable rows={list.items} columns={columns(t)} />
          </>
        )}
      </Loaded>
    </AdminLayout>
  );
}

export const getServerSideProps: GetServerSideProps<AdminPageProps<AdminPlanList>> = (ctx) =>
  loadAdminPage(ctx, (call, bearer) => call<AdminPlanList>({ path: "plans", bearer }));
