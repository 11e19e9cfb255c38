/** Formatting for the admin panel: deterministic on server and client (no locale, no time zone lookup). */

const TASHKENT_OFFSET_MS = 5 * 3600 * 1000;

/** `2026-11-28 19:02` in Tashkent time (UTC+5), or a dash. */
export function formatTashkent(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Date(date.getTime() + TASHKENT_OFFSET_MS).toISOString().slice(0, 16).replace("T", " ");
}

export function orDash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === "" ? "—" : String(value);
}

export function userLabel(user: {
  telegram_id: number;
  username: string | null;
  first_name: string | null;
}): string {
  const name = user.username ? `@${user.username}` : (user.first_name ?? "");
  return name ? `${user.telegram_id} · ${name}` : String(user.telegram_id);
}

/** The current page's path and query without the one-off `notice`/`error` messages (used as return_to). */
export function returnPath(pathname: string, query: Record<string, string | string[] | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (key === "notice" || key === "error" || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  const search = params.toString();
  return search ? `${pathname}?${search}` : pathname;
}

/** The same query with some values changed (undefined removes the key). */
export function withQuery(
  pathname: string,
  query: Record<string, string | string[] | undefined>,
  changes: Record<string, string | undefined>,
): string {
  const merged: Record<string, string | string[] | undefined> = { ...query, ...changes };
  return returnPath(pathname, merged);
}
