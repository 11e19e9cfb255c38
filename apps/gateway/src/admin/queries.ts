import type { DbOrTx } from "@obuna/db";
import { type ListPage, pageTotal, searchCondition, userRef } from "@obuna/db/queries";
import { boundCards, users } from "@obuna/db/schema";
import { and, count, desc, eq, inArray, isNull, or, sql } from "drizzle-orm";

/**
 * The admin API's bound-card list. Every other admin read is in packages/db/src/queries (one file
 * per table); this one moves to queries/bound-cards.ts once the card rewrite (provider-neutral
 * card ids, an explicit card status) has landed.
 */

// ------------------------------------------------------------------ bound cards

export async function listBoundCards(
  db: DbOrTx,
  params: ListPage & { active?: boolean; search?: string; ids?: number[] },
) {
  const where = and(
    params.active === undefined
      ? undefined
      : params.active
        ? and(eq(boundCards.isActive, true), isNull(boundCards.removedAt))
        : or(eq(boundCards.isActive, false), sql`${boundCards.removedAt} is not null`),
    params.ids ? inArray(boundCards.id, params.ids) : undefined,
    searchCondition(params.search, boundCards.panMasked),
  );
  // Never select card_token: it is a secret and has no place in an admin answer.
  const rows = await db
    .select({
      card: {
        id: boundCards.id,
        cardRef: boundCards.cardRef,
        panMasked: boundCards.panMasked,
        cardType: boundCards.cardType,
        expiry: boundCards.expiry,
        isActive: boundCards.isActive,
        removedAt: boundCards.removedAt,
        lastUsedAt: boundCards.lastUsedAt,
        createdAt: boundCards.createdAt,
        updatedAt: boundCards.updatedAt,
      },
      user: userRef,
    })
    .from(boundCards)
    .innerJoin(users, eq(users.id, boundCards.userId))
    .where(where)
    .orderBy(desc(boundCards.createdAt), desc(boundCards.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await pageTotal(
    db.select({ n: count() }).from(boundCards).innerJoin(users, eq(users.id, boundCards.userId)).where(where),
  );
  return { rows, total: n };
}
