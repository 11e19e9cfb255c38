import { and, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { preparedQuery } from "../prepared";
import { subscriptions, users } from "../schema/index";
import { type ListPage, pageTotal, searchCondition } from "./list-page";

export interface TelegramProfile {
  telegramId: number;
  username?: string | null;
  firstName?: string | null;
  languageCode?: string | null;
}

/** Creates the user on first contact; later calls refresh the profile but never the role. */
export async function upsertTelegramUser(db: DbOrTx, profile: TelegramProfile) {
  const [user] = await db
    .insert(users)
    .values({
      telegramId: profile.telegramId,
      username: profile.username ?? null,
      firstName: profile.firstName ?? null,
      languageCode: profile.languageCode ?? null,
    })
    .onConflictDoUpdate({
      target: users.telegramId,
      set: {
        username: sql`coalesce(excluded.username, ${users.username})`,
        firstName: sql`coalesce(excluded.first_name, ${users.firstName})`,
        languageCode: sql`coalesce(excluded.language_code, ${users.languageCode})`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return user!;
}

export async function getUserByTelegramId(db: DbOrTx, telegramId: number) {
  const [user] = await db.select().from(users).where(eq(users.telegramId, telegramId)).limit(1);
  return user ?? null;
}

export async function getUserById(db: DbOrTx, userId: number) {
  const [user] = await db.select().from(users).where(eq(users.id, userId)).limit(1);
  return user ?? null;
}

// Every renewal charge sets the role: built once, prepared (src/prepared.ts). A user who already has
// it (every renewal but the first after a lapse) is not written again: no new row version, no WAL.
const setUserRoleQuery = preparedQuery("set_user_role", (db) =>
  db
    .update(users)
    // updated_at is set here: drizzle would fill this `$onUpdate` column once, when the query is built.
    .set({ role: sql`${sql.placeholder("role")}::user_role`, updatedAt: sql`now()` })
    .where(
      and(
        eq(users.id, sql.placeholder("userId")),
        sql`${users.role} <> 'admin'`,
        sql`${users.role} <> ${sql.placeholder("role")}::user_role`,
      ),
    )
    .prepare("set_user_role"),
);

export async function setUserRole(db: DbOrTx, userId: number, role: "user" | "premium" | "admin") {
  // An admin stays an admin whatever happens to their subscription.
  await setUserRoleQuery(db, { userId, role });
}

export async function markBotBlocked(db: DbOrTx, userId: number, at: Date) {
  await db.update(users).set({ botBlockedAt: at }).where(eq(users.id, userId));
}

/**
 * Records the language the user chose (creating the user on first contact, as /start may come before
 * any payment). Returns the user.
 */
export async function setUserLanguage(
  db: DbOrTx,
  profile: TelegramProfile & { language: "uz" | "ru" | "en" },
) {
  const [user] = await db
    .insert(users)
    .values({
      telegramId: profile.telegramId,
      username: profile.username ?? null,
      firstName: profile.firstName ?? null,
      languageCode: profile.languageCode ?? null,
      language: profile.language,
    })
    .onConflictDoUpdate({
      target: users.telegramId,
      set: {
        language: profile.language,
        username: sql`coalesce(excluded.username, ${users.username})`,
        firstName: sql`coalesce(excluded.first_name, ${users.firstName})`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return user!;
}

/** Users (filter by role; search Telegram id, username), newest first, with their live subscription, and the total. */
export async function listUsers(
  db: DbOrTx,
  params: ListPage & { role?: (typeof users.role.enumValues)[number]; search?: string },
) {
  const where = and(
    params.role ? eq(users.role, params.role) : undefined,
    searchCondition(params.search, null),
  );
  const rows = await db
    .select({
      user: users,
      subscriptionId: subscriptions.id,
      subscriptionEndDate: subscriptions.endDate,
    })
    .from(users)
    .leftJoin(
      subscriptions,
      and(eq(subscriptions.userId, users.id), inArray(subscriptions.status, ["active", "past_due"])),
    )
    .where(where)
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await pageTotal(db.select({ n: count() }).from(users).where(where));
  return { rows, total: n };
}
