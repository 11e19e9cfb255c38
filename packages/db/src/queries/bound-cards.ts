import { and, asc, desc, eq, isNotNull, isNull, lte } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { type CardTokenKey, decryptCardToken, encryptCardToken } from "../crypto";
import { boundCards } from "../schema/index";

export async function listCardsByUser(db: DbOrTx, userId: number) {
  return db
    .select({
      id: boundCards.id,
      panMasked: boundCards.panMasked,
      cardType: boundCards.cardType,
      expiry: boundCards.expiry,
      isActive: boundCards.isActive,
      createdAt: boundCards.createdAt,
      lastUsedAt: boundCards.lastUsedAt,
    })
    .from(boundCards)
    .where(and(eq(boundCards.userId, userId), isNull(boundCards.removedAt)))
    .orderBy(desc(boundCards.createdAt));
}

export interface BindCardInput {
  userId: number;
  cardToken: string;
  cardId: number;
  panMasked: string;
  expiry: string;
  cardType: "uzcard" | "humo" | "visa" | "mastercard";
}

/** Saves (or re-activates) a card bound at ATMOS; the token is encrypted before it reaches SQL. */
export async function saveBoundCard(db: DbOrTx, input: BindCardInput, key: CardTokenKey) {
  const encrypted = encryptCardToken(input.cardToken, key);
  const [card] = await db
    .insert(boundCards)
    .values({ ...input, cardToken: encrypted, isActive: true })
    .onConflictDoUpdate({
      target: [boundCards.userId, boundCards.cardId],
      set: {
        cardToken: encrypted,
        panMasked: input.panMasked,
        expiry: input.expiry,
        isActive: true,
        removedAt: null,
        updatedAt: new Date(),
      },
    })
    .returning();
  return card!;
}

export async function getBoundCard(db: DbOrTx, cardId: number) {
  const [card] = await db.select().from(boundCards).where(eq(boundCards.id, cardId)).limit(1);
  return card ?? null;
}

/** The plain ATMOS token, for the one call that needs it. Never log the result. */
export function revealCardToken(card: { cardToken: string | null }, key: CardTokenKey): string {
  // Erased tokens belong to cards removed or parked for over a day: nothing may use them.
  if (card.cardToken === null) throw new Error("this card's token was erased");
  return decryptCardToken(card.cardToken, key);
}

/**
 * Cards removed (by their user or an admin) or parked (bound for a payment that never completed)
 * since before `before` whose encrypted token is still stored: the token-erasure job's work list.
 */
export async function findRetiredCardsWithToken(db: DbOrTx, before: Date, limit: number) {
  return db
    .select()
    .from(boundCards)
    .where(and(isNotNull(boundCards.cardToken), lte(boundCards.removedAt, before)))
    .orderBy(asc(boundCards.removedAt))
    .limit(limit);
}

/**
 * Drops a retired card's token, only if the card is still retired since before `before` (a card
 * un-parked by a late payment keeps its token). Returns whether it erased.
 */
export async function eraseCardToken(db: DbOrTx, cardId: number, before: Date, now: Date) {
  const rows = await db
    .update(boundCards)
    .set({ cardToken: null, isActive: false, updatedAt: now })
    .where(and(eq(boundCards.id, cardId), isNotNull(boundCards.cardToken), lte(boundCards.removedAt, before)))
    .returning({ id: boundCards.id });
  return rows.length > 0;
}
