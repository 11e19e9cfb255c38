import { and, desc, eq, isNull } from "drizzle-orm";
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
export function revealCardToken(card: { cardToken: string }, key: CardTokenKey): string {
  return decryptCardToken(card.cardToken, key);
}
