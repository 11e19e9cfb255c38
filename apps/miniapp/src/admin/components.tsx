import Head from "next/head";
import Link from "next/link";
import { useRouter } from "next/router";
import type { ReactNode } from "react";
import { type AdminActionName, confirmHref } from "./actions";
import { returnPath, withQuery } from "./format";
import { ADMIN_LANGS, type AdminLang, AdminLangContext, tr, useTr } from "./i18n";

const NAV: ReadonlyArray<{ href: string; label: string }> = [
  { href: "/admin", label: "Dashboard" },
  { href: "/admin/payment-sessions", label: "Payment sessions" },
  { href: "/admin/payments", label: "Payments" },
  { href: "/admin/subscriptions", label: "Subscriptions" },
  { href: "/admin/cards", label: "Bound cards" },
  { href: "/admin/users", label: "Users" },
  { href: "/admin/audit-log", label: "Audit log" },
  { href: "/admin/plans", label: "Plans" },
  { href: "/admin/events", label: "Signed events" },
];

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Frame of every signed-in admin page: navigation, who is signed in, sign-out, one-off notices. */
export function AdminLayout({
  title,
  actor,
  flash,
  lang = "en",
  langReturnTo,
  children,
}: {
  /** In English: translated here. */
  title: string;
  actor?: string;
  lang?: AdminLang;
  /** From the server-set flash cookie only; the URL never puts text on an admin page. */
  flash?: { notice: string | null; error: string | null };
  /**
   * Pages outside the signed-in frame (login) show the language switch too; it comes back here
   * (a safe /admin path: the login page gives its `next`, whose guard leads back to the login).
   */
  langReturnTo?: string;
  children: ReactNode;
}) {
  const router = useRouter();
  const notice = flash?.notice;
  const error = flash?.error;
  const t = (english: string) => tr(lang, english);
  return (
    <AdminLangContext.Provider value={lang}>
      <div className="min-h-dvh bg-gray-50 text-gray-900" data-admin lang={lang}>
        <Head>
          <title>{`${t(title)} · Obuna admin`}</title>
          <meta name="robots" content="noindex" />
        </Head>
        <header className="flex flex-wrap items-center gap-x-4 gap-y-2 border-b border-gray-200 bg-white px-4 py-3">
          <span className="font-semibold">{t("Obuna admin")}</span>
          {actor !== undefined && (
            <nav aria-label={t("Admin sections")} className="flex flex-wrap gap-1 text-sm">
              {NAV.map((item) => (
                <Link
                  key={item.href}
                  href={item.href}
                  aria-current={router.pathname === item.href ? "page" : undefined}
                  className={`rounded px-2 py-1 ${router.pathname === item.href ? "bg-blue-600 text-white" : "text-blue-700 hover:bg-blue-50"}`}
                >
                  {t(item.label)}
                </Link>
              ))}
            </nav>
          )}
          {actor !== undefined && (
            <form
              method="post"
              action="/api/admin/logout"
              className="ml-auto flex items-center gap-2 text-sm"
            >
              <span className="text-gray-600" data-testid="admin-actor">
                {actor}
              </span>
              <button type="submit" className="rounded border border-gray-300 px-2 py-1 hover:bg-gray-100">
                {t("Sign out")}
              </button>
            </form>
          )}
          {(actor !== undefined || langReturnTo !== undefined) && (
            <LanguageSwitch lang={lang} returnTo={langReturnTo} />
          )}
        </header>
        <main className="mx-auto flex max-w-7xl flex-col gap-4 p-4">
          <h1 className="text-xl font-semibold">{t(title)}</h1>
          {notice && (
            <p role="status" className="rounded border border-green-300 bg-green-50 p-3 text-green-900">
              {notice}
            </p>
          )}
          {error && <ErrorBox message={error} />}
          {children}
        </main>
      </div>
    </AdminLangContext.Provider>
  );
}

/**
 * Where the language switch comes back to: the page with only its navigation parameters (filters,
 * the action and id of a confirmation), never text a link could carry (reason, days, key).
 */
const SWITCH_KEEPS = [
  "action",
  "id",
  "mode",
  "return_to",
  "status",
  "kind",
  "search",
  "active",
  "role",
  "auto_renew",
  "entity_type",
  "entity_id",
  "actor",
  "limit",
  "offset",
  "rail",
  "plan",
];
function switchReturnPath(pathname: string, query: Record<string, string | string[] | undefined>): string {
  const keep: Record<string, string | string[] | undefined> = {};
  for (const key of pathname === "/admin" ? [...SWITCH_KEEPS, "days"] : SWITCH_KEEPS) keep[key] = query[key];
  return returnPath(pathname, keep);
}

/** uz / ru / en: a same-site POST that sets the `obuna_admin_lang` cookie and comes back here. */
function LanguageSwitch({ lang, returnTo }: { lang: AdminLang; returnTo?: string }) {
  const router = useRouter();
  return (
    <form
      method="post"
      action="/api/admin/lang"
      className="flex items-center gap-1 text-xs"
      data-testid="admin-lang"
    >
      <span className="text-gray-500">{tr(lang, "Language")}:</span>
      <input
        type="hidden"
        name="return_to"
        value={returnTo ?? switchReturnPath(router.pathname, router.query)}
      />
      {ADMIN_LANGS.map((code) => (
        <button
          key={code}
          type="submit"
          name="lang"
          value={code}
          aria-pressed={code === lang}
          className={`rounded px-1.5 py-0.5 uppercase ${code === lang ? "bg-gray-800 text-white" : "border border-gray-300 text-gray-700"}`}
        >
          {code}
        </button>
      ))}
    </form>
  );
}

export function ErrorBox({ message }: { message: string }) {
  return (
    <p role="alert" className="rounded border border-red-300 bg-red-50 p-3 text-red-900">
      {message}
    </p>
  );
}

export interface Column<T> {
  header: string;
  cell(row: T): ReactNode;
}

/** A plain table; each row carries `data-row-id` for tests and links. */
export function DataTable<T extends { id: number | string }>({
  rows,
  columns,
  empty = "Nothing found.",
}: {
  rows: readonly T[];
  columns: ReadonlyArray<Column<T>>;
  empty?: string;
}) {
  const t = useTr();
  if (rows.length === 0) return <p className="text-gray-600">{t(empty)}</p>;
  return (
    <div className="overflow-x-auto rounded border border-gray-200 bg-white">
      <table className="min-w-full text-left text-sm">
        <thead className="bg-gray-100 text-xs uppercase text-gray-600">
          <tr>
            {columns.map((column) => (
              <th key={column.header} scope="col" className="whitespace-nowrap px-3 py-2">
                {t(column.header)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} data-row-id={row.id} className="border-t border-gray-100 align-top">
              {columns.map((column) => (
                <td key={column.header} className="px-3 py-2">
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export interface FilterSelect {
  name: string;
  label: string;
  options: readonly string[];
}

/** A GET form: search box and selects; submitting starts again at the first page. */
export function Filters({
  search = true,
  searchLabel = "Search (Telegram id, @username, card digits)",
  selects = [],
  texts = [],
}: {
  search?: boolean;
  searchLabel?: string;
  selects?: readonly FilterSelect[];
  texts?: ReadonlyArray<{ name: string; label: string }>;
}) {
  const router = useRouter();
  const t = useTr();
  const value = (name: string) => one(router.query[name]) ?? "";
  return (
    <form
      method="get"
      className="flex flex-wrap items-end gap-3 rounded border border-gray-200 bg-white p-3 text-sm"
    >
      {search && (
        <label className="flex flex-col gap-1">
          <span className="text-gray-600">{t(searchLabel)}</span>
          <input
            type="search"
            name="search"
            defaultValue={value("search")}
            maxLength={64}
            className="w-72 rounded border border-gray-300 px-2 py-1"
          />
        </label>
      )}
      {texts.map((text) => (
        <label key={text.name} className="flex flex-col gap-1">
          <span className="text-gray-600">{t(text.label)}</span>
          <input
            type="text"
            name={text.name}
            defaultValue={value(text.name)}
            maxLength={80}
            className="w-44 rounded border border-gray-300 px-2 py-1"
          />
        </label>
      ))}
      {selects.map((select) => (
        <label key={select.name} className="flex flex-col gap-1">
          <span className="text-gray-600">{t(select.label)}</span>
          <select
            name={select.name}
            defaultValue={value(select.name)}
            className="rounded border border-gray-300 px-2 py-1"
          >
            <option value="">{t("any")}</option>
            {select.options.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        </label>
      ))}
      <button type="submit" className="rounded bg-blue-600 px-3 py-1.5 font-semibold text-white">
        {t("Apply")}
      </button>
      <Link href={router.pathname} className="px-2 py-1.5 text-blue-700">
        {t("Clear")}
      </Link>
    </form>
  );
}

/** "41–60 of 200" with previous/next links that keep the filters. */
export function Pagination({ total, limit, offset }: { total: number; limit: number; offset: number }) {
  const router = useRouter();
  const t = useTr();
  const href = (nextOffset: number) =>
    withQuery(router.pathname, router.query, { offset: nextOffset > 0 ? String(nextOffset) : undefined });
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  return (
    <nav aria-label="Pages" className="flex items-center gap-3 text-sm">
      <span data-testid="page-range">
        {first}–{last} {t("of")} {total}
      </span>
      {offset > 0 && (
        <Link href={href(Math.max(0, offset - limit))} className="text-blue-700" rel="prev">
          {t("← Previous")}
        </Link>
      )}
      {offset + limit < total && (
        <Link href={href(offset + limit)} className="text-blue-700" rel="next">
          {t("Next →")}
        </Link>
      )}
    </nav>
  );
}

/** A link to the confirmation step of an action on a row (nothing changes until it is confirmed). */
export function ActionLink({
  action,
  id,
  label,
  danger = false,
}: {
  action: AdminActionName;
  id: number;
  label: string;
  danger?: boolean;
}) {
  const router = useRouter();
  const t = useTr();
  return (
    <Link
      href={confirmHref(action, id, returnPath(router.pathname, router.query))}
      className={`mr-2 whitespace-nowrap rounded border px-2 py-0.5 text-xs font-semibold ${danger ? "border-red-400 text-red-700 hover:bg-red-50" : "border-blue-400 text-blue-700 hover:bg-blue-50"}`}
    >
      {t(label)}
    </Link>
  );
}

export function Badge({
  value,
  tone = "gray",
}: {
  value: string;
  tone?: "gray" | "green" | "red" | "amber";
}) {
  const look = {
    gray: "bg-gray-100 text-gray-800",
    green: "bg-green-100 text-green-800",
    red: "bg-red-100 text-red-800",
    amber: "bg-amber-100 text-amber-900",
  }[tone];
  return (
    <span className={`whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-semibold ${look}`}>{value}</span>
  );
}

/** The page's data, or the gateway's error message as it was given. */
export function Loaded<T>({
  result,
  children,
}: {
  result: { ok: true; data: T } | { ok: false; code: string; message: string };
  children: (data: T) => ReactNode;
}) {
  if (!result.ok) return <ErrorBox message={`${result.message} (${result.code})`} />;
  return <>{children(result.data)}</>;
}

/** A list page's body: the gateway's error, or the page of rows and its pagination. */
export function PagedTable<T extends { id: number | string }>({
  result,
  columns,
  empty,
}: {
  result:
    | { ok: true; data: { items: readonly T[]; total: number; limit: number; offset: number } }
    | { ok: false; code: string; message: string };
  columns: ReadonlyArray<Column<T>>;
  empty: string;
}) {
  return (
    <Loaded result={result}>
      {(page) => (
        <>
          <DataTable rows={page.items} columns={columns} empty={empty} />
          <Pagination total={page.total} limit={page.limit} offset={page.offset} />
        </>
      )}
    </Loaded>
  );
}
