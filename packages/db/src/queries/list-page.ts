import { eq, ilike, or, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { users } from "../schema/index";

/**
 * What the admin API's list queries share (payment sessions, payments, subscriptions, bound cards,
 * users, audit log): limit/offset pagination with a total, the owner columns a row carries, and the
 * search by Telegram id, username or masked card.
 */

export interface ListPage {
  limit: number;
  offset: number;
}

/** The user columns every admin list row carries. */
export const userRef = {
  id: users.id,
  telegramId: users.telegramId,
  username: users.username,
  firstName: users.firstName,
};

function likeTerm(term: string): string {
  return `%${term.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}

/**
 * Search by Telegram id (digits), username (`@` optional) or a masked card fragment (`1840`,
 * `986009`, `986009******1840`). Returns undefined for no search.
 */
export function searchCondition(search: string | undefined, cardColumn: PgColumn | null): SQL | undefined {
  if (!search) return undefined;
  const term = search.trim();
  const parts: SQL[] = [];
  if (/^\d{1,16}$/.test(term)) parts.push(eq(users.telegramId, Number(term)));
  const name = term.replace(/^@/, "");
  if (name) parts.push(ilike(users.username, likeTerm(name)));
  if (cardColumn && /^[\d*\s]+$/.test(term)) parts.push(ilike(cardColumn, likeTerm(term.replace(/\s/g, ""))));
  return or(...parts);
}

/** The `count()` row of a list's total query, as a number. */
export async function pageTotal(query: Promise<Array<{ n: number }>>): Promise<number> {
  const [row] = await query;
  return Number(row?.n ?? 0);
}
