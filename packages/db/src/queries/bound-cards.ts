import { and, asc, desc, eq, isNotNull, isNull, lte, ne, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { type CardTokenKey, decryptCardToken, encryptCardToken } from "../crypto";
import { boundCards, paymentSessions } from "../schema/index";

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
  return saveEncryptedBoundCard(db, { ...input, cardToken: encryptCardToken(input.cardToken, key) });
}

/**
 * Saves (or re-activates) a card whose token is already encrypted with CARD_TOKEN_KEY (a payment
 * session's pending binding becoming the user's card).
 */
export async function saveEncryptedBoundCard(
  db: DbOrTx,
  input: BindCardInput & { lastUsedAt?: Date; now?: Date },
) {
  const { now = new Date(), lastUsedAt, ...values } = input;
  const [card] = await db
    .insert(boundCards)
    .values({ ...values, isActive: true, lastUsedAt: lastUsedAt ?? null, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [boundCards.userId, boundCards.cardId],
      set: {
        cardToken: values.cardToken,
        panMasked: values.panMasked,
        expiry: values.expiry,
        isActive: true,
        removedAt: null,
        ...(lastUsedAt ? { lastUsedAt } : {}),
        updatedAt: now,
      },
    })
    .returning();
  return card!;
}

/**
 * Whether a live card row (not removed, token kept) other than `exceptId` uses this ATMOS card id.
 * ATMOS keeps one binding (card id + token) per card for the whole merchant, whoever typed the card:
 * removing it at ATMOS while such a row exists would silently break that other row's renewals.
 */
export async function atmosCardSharedByLiveRow(db: DbOrTx, atmosCardId: number, exceptId?: number) {
  const [row] = await db
    .select({ id: boundCards.id })
    .from(boundCards)
    .where(
      and(
        eq(boundCards.cardId, atmosCardId),
        isNull(boundCards.removedAt),
        isNotNull(boundCards.cardToken),
        ...(exceptId === undefined ? [] : [ne(boundCards.id, exceptId)]),
      ),
    )
    .limit(1);
  return row !== undefined;
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

/**
 * Payment sessions still holding a pending card binding's token although they ended without using it
 * (failed, expired, refused at success) and were last touched before `before`: the token-erasure
 * job's second work list. A `processing` session may still complete and is left alone.
 */
export async function findSessionsWithStaleBinding(db: DbOrTx, before: Date, limit: number) {
  return db
    .select({
      id: paymentSessions.id,
      status: paymentSessions.status,
      updatedAt: paymentSessions.updatedAt,
      bindCardId: paymentSessions.bindCardId,
      bindCardToken: paymentSessions.bindCardToken,
      bindCardMasked: paymentSessions.bindCardMasked,
    })
    .from(paymentSessions)
    .where(
      and(
        isNotNull(paymentSessions.bindCardToken),
        lte(paymentSessions.updatedAt, before),
        sql`${paymentSessions.status} <> 'processing'`,
      ),
    )
    .orderBy(asc(paymentSessions.updatedAt))
    .limit(limit);
}

/** Drops a session's pending binding token if it is still stale (compare-and-set); returns whether it did. */
export async function eraseSessionBinding(db: DbOrTx, sessionId: string, before: Date) {
  const rows = await db
    .update(paymentSessions)
    .set({ bindCardToken: null })
    .where(
      and(
        eq(paymentSessions.id, sessionId),
        isNotNull(paymentSessions.bindCardToken),
        lte(paymentSessions.updatedAt, before),
        sql`${paymentSessions.status} <> 'processing'`,
      ),
    )
    .returning({ id: paymentSessions.id });
  return rows.length > 0;
}

/** A renewal charged this card. */
export async function markCardUsed(db: DbOrTx, cardId: number, now: Date) {
  await db.update(boundCards).set({ lastUsedAt: now }).where(eq(boundCards.id, cardId));
}

/** A hard decline (expired, blocked, unknown card): the card is taken out of renewals. */
export async function deactivateCardAfterHardDecline(db: DbOrTx, cardId: number, now: Date) {
  await db.update(boundCards).set({ isActive: false, updatedAt: now }).where(eq(boundCards.id, cardId));
}
