import { and, asc, count, desc, eq, inArray, isNotNull, isNull, lte, ne, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { type CardTokenKey, decryptCardToken, encryptCardToken } from "../crypto";
import { preparedUpdateById } from "../prepared";
import { boundCards, type paymentProvider, paymentSessions, subscriptions, users } from "../schema/index";
import { type ListPage, pageTotal, searchCondition, userRef } from "./list-page";

/** A payment provider, as the `payment_provider` column names it. */
export type PaymentProviderName = (typeof paymentProvider.enumValues)[number];

/** A card its user still has: active, or deactivated (an admin may turn it back on). */
export const LIVE_CARD_STATUSES = ["active", "deactivated"] as const;

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
    .where(and(eq(boundCards.userId, userId), inArray(boundCards.status, [...LIVE_CARD_STATUSES])))
    .orderBy(desc(boundCards.createdAt));
}

export interface BindCardInput {
  userId: number;
  cardToken: string;
  /** The provider that holds the binding; the column's default ('atmos') when left out. */
  provider?: PaymentProviderName;
  /** The provider's card reference, as text (ATMOS card_id: `String(cardId)`). */
  cardRef: string;
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
    .values({
      ...values,
      status: "active",
      isActive: true,
      lastUsedAt: lastUsedAt ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: [boundCards.userId, boundCards.provider, boundCards.cardRef],
      set: {
        cardToken: values.cardToken,
        panMasked: values.panMasked,
        expiry: values.expiry,
        status: "active",
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
 * Serialises every change of who holds one provider card (its card reference) for the rest of the
 * transaction: a removal's "does anyone else hold it" check, its call to the provider and its
 * "removed" mark run under it, and so does a payment success that makes a session's binding of the
 * same card a card row. Take it before locking any bound_cards row.
 */
export async function lockProviderCard(tx: DbOrTx, cardRef: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(${PROVIDER_CARD_LOCK_SPACE}, hashtext(${cardRef}))`);
}
/** The advisory-lock key space of provider cards (first half of the two-int key). */
const PROVIDER_CARD_LOCK_SPACE = 18_001;

export type ProviderCardHolder =
  | { kind: "card_row"; boundCardId: number }
  | { kind: "pending_binding"; sessionId: string };

/**
 * Who else still needs this provider card: a live card row (active or deactivated, token kept)
 * other than `exceptCardId`, or a payment session in progress (pending or processing) whose
 * pending binding is this card (its success makes it a card row with that same token), other than
 * `exceptSessionId`. ATMOS keeps one binding (card id + token) per card for the whole merchant,
 * whoever typed the card: removing it there while such a holder exists breaks that holder's
 * renewals. Null when nobody else holds it.
 */
export async function findOtherProviderCardHolder(
  db: DbOrTx,
  cardRef: string,
  except: { exceptCardId?: number; exceptSessionId?: string } = {},
  provider: PaymentProviderName = "atmos",
): Promise<ProviderCardHolder | null> {
  const [row] = await db
    .select({ id: boundCards.id })
    .from(boundCards)
    .where(
      and(
        eq(boundCards.provider, provider),
        eq(boundCards.cardRef, cardRef),
        inArray(boundCards.status, [...LIVE_CARD_STATUSES]),
        ...(except.exceptCardId === undefined ? [] : [ne(boundCards.id, except.exceptCardId)]),
      ),
    )
    .limit(1);
  if (row) return { kind: "card_row", boundCardId: row.id };
  const [session] = await db
    .select({ id: paymentSessions.id })
    .from(paymentSessions)
    .where(
      and(
        isNotNull(paymentSessions.bindCardToken),
        eq(paymentSessions.provider, provider),
        eq(paymentSessions.bindCardRef, cardRef),
        inArray(paymentSessions.status, ["pending", "processing"]),
        ...(except.exceptSessionId === undefined ? [] : [ne(paymentSessions.id, except.exceptSessionId)]),
      ),
    )
    .limit(1);
  return session ? { kind: "pending_binding", sessionId: session.id } : null;
}

export async function getBoundCard(db: DbOrTx, cardId: number) {
  const [card] = await db.select().from(boundCards).where(eq(boundCards.id, cardId)).limit(1);
  return card ?? null;
}

/** Moves a card between active and deactivated (compare-and-set on the current status). */
export async function setBoundCardActivity(
  db: DbOrTx,
  cardId: number,
  to: "active" | "deactivated",
  now: Date,
) {
  const [card] = await db
    .update(boundCards)
    .set({ status: to, isActive: to === "active", updatedAt: now })
    .where(and(eq(boundCards.id, cardId), eq(boundCards.status, to === "active" ? "deactivated" : "active")))
    .returning();
  return card ?? null;
}

/** Marks a live card removed (compare-and-set: only from active or deactivated). */
export async function markBoundCardRemoved(db: DbOrTx, cardId: number, now: Date) {
  const [card] = await db
    .update(boundCards)
    .set({ status: "removed", isActive: false, removedAt: now, updatedAt: now })
    .where(and(eq(boundCards.id, cardId), inArray(boundCards.status, [...LIVE_CARD_STATUSES])))
    .returning();
  return card ?? null;
}

/**
 * The subscriptions of `userId` that renew with this card stop auto-renewing and forget it (and
 * any planned retry time): the part of a card's removal that touches subscriptions. Returns their ids.
 */
export async function detachCardFromSubscriptions(
  db: DbOrTx,
  input: { userId: number; boundCardId: number; now: Date },
) {
  const rows = await db
    .update(subscriptions)
    .set({ autoRenew: false, boundCardId: null, nextRenewalAt: null, updatedAt: input.now })
    .where(and(eq(subscriptions.userId, input.userId), eq(subscriptions.boundCardId, input.boundCardId)))
    .returning({ id: subscriptions.id });
  return rows.map((row) => row.id);
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
    .where(and(eq(boundCards.status, "removed"), lte(boundCards.removedAt, before)))
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
    .set({ status: "erased", cardToken: null, isActive: false, updatedAt: now })
    .where(
      and(eq(boundCards.id, cardId), eq(boundCards.status, "removed"), lte(boundCards.removedAt, before)),
    )
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
      bindCardRef: paymentSessions.bindCardRef,
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

/**
 * Locks a session's pending binding of `cardRef` if it is still stale (as in
 * findSessionsWithStaleBinding); a session locked by its own success right now is skipped (null),
 * never waited for (the success holds the session, then the provider-card lock: the opposite order).
 */
export async function lockStaleSessionBinding(
  tx: DbOrTx,
  input: { sessionId: string; cardRef: string; before: Date },
) {
  const [row] = await tx
    .select({
      id: paymentSessions.id,
      status: paymentSessions.status,
      updatedAt: paymentSessions.updatedAt,
      bindCardRef: paymentSessions.bindCardRef,
      bindCardToken: paymentSessions.bindCardToken,
      bindCardMasked: paymentSessions.bindCardMasked,
    })
    .from(paymentSessions)
    .where(
      and(
        eq(paymentSessions.id, input.sessionId),
        eq(paymentSessions.bindCardRef, input.cardRef),
        isNotNull(paymentSessions.bindCardToken),
        lte(paymentSessions.updatedAt, input.before),
        sql`${paymentSessions.status} <> 'processing'`,
      ),
    )
    .for("update", { skipLocked: true });
  return row ?? null;
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
  await updateBoundCardQuery(db, cardId, { lastUsedAt: now });
}

// Every renewal charge marks its card: prepared (src/prepared.ts).
const updateBoundCardQuery = preparedUpdateById("update_bound_card", boundCards, boundCards.id);

/** A hard decline (expired, blocked, unknown card): the card is taken out of renewals. */
export async function deactivateCardAfterHardDecline(db: DbOrTx, cardId: number, now: Date) {
  // active → deactivated (the card's status machine: a deactivated card stays as it is, a removed
  // one is never touched).
  await db
    .update(boundCards)
    .set({ status: "deactivated", isActive: false, updatedAt: now })
    .where(and(eq(boundCards.id, cardId), eq(boundCards.status, "active")));
}

/**
 * The admin API's card list, masked, with each card's user (filter by active, ids; search Telegram
 * id, username, card mask). Never selects card_token: it is a secret and has no place in an answer.
 */
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
