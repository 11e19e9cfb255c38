/**
 * The card state machine: every write of a saved card (bound_cards) and of a session's pending card
 * binding goes through here. Outcomes are discriminated unions; nothing here knows HTTP or BullMQ.
 *
 *   (a provider binding made during a payment waits on its session: payment_sessions.bind_card_*)
 *        │ activateSessionCard: the success charged exactly that card
 *        ▼
 *     active ⇄ deactivated            deactivateCard / reactivateCard (admin; a hard decline deactivates)
 *        │          │
 *        └────┬─────┘ removeCard (user, admin): removed at the provider unless another holder needs it
 *             ▼
 *          removed ── eraseRetiredCardToken (a day later) ──▶ erased (token dropped)
 *
 * A later success that charged the same card makes any of them active again with the new binding's
 * token. A session's unused binding is dropped a day after the session ended (eraseStaleSessionBinding).
 *
 * Removing a card at the provider (the one orchestration, `removeAtProviderLocked`) runs under the
 * provider-card lock (lockProviderCard) from the "does anyone else hold it" check through the
 * provider call to the "removed" mark, and counts a payment in progress that holds the same card as
 * a holder (docs/renewals.md, "Retired card tokens").
 */
import type { BoundCard, Database, PaymentSession, Transaction } from "@obuna/db";
import { type CardTokenKey, decryptCardToken } from "@obuna/db/crypto";
import {
  detachCardFromSubscriptions,
  eraseCardToken,
  eraseSessionBinding,
  findOtherProviderCardHolder,
  getBoundCard,
  lockProviderCard,
  lockStaleSessionBinding,
  markBoundCardRemoved,
  type ProviderCardHolder,
  recordNotification,
  revealCardToken,
  saveEncryptedBoundCard,
  setBoundCardActivity,
} from "@obuna/db/queries";
import { boundCards } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { writeAudit } from "./audit";
import { recordPremiumEvent } from "./events";
import { isProviderError, type PaymentProvider, type ProviderErrorKind } from "./provider";

export interface CardDeps {
  /** CARD_TOKEN_KEY: tokens are stored encrypted with it. */
  cardTokenKey: CardTokenKey;
}

export interface CardRemovalDeps extends CardDeps {
  provider: Pick<PaymentProvider, "removeCard">;
}

// ------------------------------------------------------------------ activate (a payment's success)

export type SessionCardActivation =
  /** The session bound no card (auto-renew off, or nothing bound). */
  | { status: "no_binding" }
  | { status: "activated"; boundCardId: number }
  /** The provider charged another card than the one this session bound: nothing activated, audited. */
  | {
      status: "refused";
      reason: "charged_another_card";
      /** The charged card as it may be logged (masked PAN or provider id), never a token. */
      chargedCard: string | null;
      auditId: number;
    };

/**
 * The one rule for a first payment's card, whichever path finalizes it (apply, callback, GET
 * re-check, maintenance): the card this session bound (its pending binding, by provider card id)
 * becomes the user's card, created or re-activated, only if the card the provider charged
 * (`chargedCardRef`) is that card. Otherwise nothing is activated and the refusal is audited.
 * Runs inside the success transaction, under the provider-card lock (a removal of the same card
 * either finishes first, having seen this session's binding, or sees the new card row).
 */
export async function activateSessionCard(
  tx: Transaction,
  deps: CardDeps,
  input: {
    session: Pick<
      PaymentSession,
      | "id"
      | "userId"
      | "autoRenew"
      | "cardMasked"
      | "bindCardRef"
      | "bindCardToken"
      | "bindCardMasked"
      | "bindCardExpiry"
      | "bindCardType"
    >;
    /** The provider's transaction id, for the audit row. */
    externalId: string;
    chargedCardRef: string | null;
    actor: string;
    now: Date;
  },
): Promise<SessionCardActivation> {
  const { session, now } = input;
  if (!session.autoRenew || session.bindCardRef === null || session.bindCardToken === null) {
    return { status: "no_binding" };
  }
  const bound = {
    cardRef: session.bindCardRef,
    panMasked: session.bindCardMasked,
    cardToken: session.bindCardToken,
  };
  if (!chargedCardIs(input.chargedCardRef, bound, deps.cardTokenKey)) {
    const chargedCard = printableCardRef(input.chargedCardRef);
    const auditId = await writeAudit(
      tx,
      {
        actor: input.actor,
        action: "card.binding_refused",
        entityType: "payment_session",
        entityId: session.id,
        reason: "the charged card is not the card this session bound",
        details: {
          userId: session.userId,
          transactionId: input.externalId,
          boundAtmosCardId: session.bindCardRef,
          boundPanMasked: session.bindCardMasked,
          chargedCard,
        },
      },
      now,
    );
    return { status: "refused", reason: "charged_another_card", chargedCard, auditId };
  }
  await lockProviderCard(tx, session.bindCardRef);
  const card = await saveEncryptedBoundCard(tx, {
    userId: session.userId,
    cardToken: session.bindCardToken,
    cardRef: session.bindCardRef,
    panMasked: session.bindCardMasked ?? session.cardMasked ?? "",
    expiry: session.bindCardExpiry ?? "",
    cardType: session.bindCardType ?? "uzcard",
    lastUsedAt: now,
    now,
  });
  return { status: "activated", boundCardId: card.id };
}

/** A provider's card reference as it may be logged: a masked PAN or a provider card id, never a token or a PAN. */
export function printableCardRef(charged: string | null): string | null {
  if (charged === null) return null;
  const value = charged.replace(/\s/g, "");
  if (/^\d{1,15}$/.test(value) || /^\d{4,6}\*+\d{4}$/.test(value)) return value;
  return "[not printable]";
}

/**
 * Whether the card the provider reports for a transaction (ATMOS `store_transaction.card_id`: the
 * card id, the token, or the masked PAN for a payment by card number) is the bound card.
 */
export function chargedCardIs(
  charged: string | null,
  bound: { cardRef: string; panMasked: string | null; cardToken: string },
  key: CardTokenKey,
): boolean {
  if (charged === null) return false;
  const value = charged.replace(/\s/g, "");
  if (value === "") return false;
  if (/^\d+$/.test(value)) return value.length < 16 && value === bound.cardRef;
  if (value.includes("*")) return bound.panMasked !== null && value === bound.panMasked.replace(/\s/g, "");
  try {
    return value === decryptCardToken(bound.cardToken, key);
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ deactivate / reactivate

export type CardActivityChange =
  | { status: "changed"; card: BoundCard; auditId: number; notificationId: string | null }
  | { status: "not_found" }
  /** Removed (or erased): it cannot change any more. */
  | { status: "removed" }
  | { status: "unchanged"; card: BoundCard };

interface CardActionInput {
  cardId: number;
  /** Who: from the credential, never from input. */
  actor: string;
  reason: string;
  /** Extra audit details (e.g. the admin's `via`). */
  details?: Record<string, unknown>;
  now: Date;
}

/**
 * Takes a card out of use (admin, or a hard decline): active → deactivated. With `notifyUser`, the
 * user's "card deactivated" message is owed from this commit (outbox; flush `notificationId`).
 */
export async function deactivateCard(
  tx: Transaction,
  _deps: CardDeps,
  input: CardActionInput & { notifyUser: boolean },
): Promise<CardActivityChange> {
  return changeActivity(tx, input, "deactivated");
}

/** Puts a deactivated card back in use (admin): deactivated → active. Never a removed or erased card. */
export async function reactivateCard(
  tx: Transaction,
  _deps: CardDeps,
  input: CardActionInput,
): Promise<CardActivityChange> {
  return changeActivity(tx, { ...input, notifyUser: false }, "active");
}

async function changeActivity(
  tx: Transaction,
  input: CardActionInput & { notifyUser: boolean },
  to: "active" | "deactivated",
): Promise<CardActivityChange> {
  const [card] = await tx.select().from(boundCards).where(eq(boundCards.id, input.cardId)).for("update");
  if (!card) return { status: "not_found" };
  if (card.status === "removed" || card.status === "erased") return { status: "removed" };
  if (card.status === to) return { status: "unchanged", card };
  const changed = await setBoundCardActivity(tx, card.id, to, input.now);
  if (!changed) throw new Error(`card ${card.id} changed under its row lock`);
  const auditId = await writeAudit(
    tx,
    {
      actor: input.actor,
      action: to === "active" ? "card.reactivated" : "card.deactivated",
      entityType: "bound_card",
      entityId: card.id,
      reason: input.reason,
      details: { ...input.details, panMasked: card.panMasked, userId: card.userId },
    },
    input.now,
  );
  const notificationId = input.notifyUser ? await notifyCardDeactivated(tx, card, auditId, input.now) : null;
  return { status: "changed", card: changed, auditId, notificationId };
}

/** The user's message about a card taken out of use, owed in the action's transaction. */
function notifyCardDeactivated(
  tx: Transaction,
  card: { id: number; userId: number },
  auditId: number,
  now: Date,
) {
  return recordNotification(
    tx,
    { kind: "card_deactivated", userId: card.userId, boundCardId: card.id },
    auditId,
    now,
  );
}

// ------------------------------------------------------------------ remove at the provider (one orchestration)

/** Provider error kinds after which the provider said nothing definite: try again later. */
const PROVIDER_UNAVAILABLE = new Set<ProviderErrorKind>([
  "timeout",
  "network",
  "server_error",
  "bad_response",
  "unauthorized",
  "internal",
]);

export type ProviderCardRemoval =
  | { outcome: "removed" }
  /** Another holder needs the card at the provider: only our row/binding is retired. */
  | { outcome: "kept_shared"; holder: ProviderCardHolder }
  /** The provider no longer had it (card_not_found): what we wanted. */
  | { outcome: "already_gone" }
  /** The provider answered definitely with another refusal. */
  | { outcome: "refused"; kind: ProviderErrorKind }
  /** No definite answer (down, timeout, 5xx, not a provider error): nothing changed here. */
  | { outcome: "unavailable"; kind: ProviderErrorKind | null };

/** How a removal's provider step is written in audit details (`details.atmos`), as before the core. */
export function providerRemovalText(removal: ProviderCardRemoval): string {
  switch (removal.outcome) {
    case "removed":
      return "removed";
    case "kept_shared":
      return removal.holder.kind === "card_row"
        ? "kept: shared with a live card row"
        : "kept: held by a payment in progress";
    case "already_gone":
      return "card_not_found";
    case "refused":
      return removal.kind;
    case "unavailable":
      return `unavailable: ${removal.kind ?? "unknown"}`;
  }
}

/**
 * Removes a provider card unless another holder needs it. Must run inside the transaction that then
 * marks our side removed/erased, after `lockProviderCard(tx, cardRef)`: the check, the
 * provider call and the mark are one critical section per provider card, so a concurrent removal
 * or a payment success of the same card cannot slip between them.
 */
async function removeAtProviderLocked(
  tx: Transaction,
  deps: CardRemovalDeps,
  input: {
    cardRef: string;
    encryptedToken: string;
    except: { exceptCardId?: number; exceptSessionId?: string };
  },
): Promise<ProviderCardRemoval> {
  const holder = await findOtherProviderCardHolder(tx, input.cardRef, input.except);
  if (holder) return { outcome: "kept_shared", holder };
  try {
    await deps.provider.removeCard({
      cardRef: input.cardRef,
      cardToken: revealCardToken({ cardToken: input.encryptedToken }, deps.cardTokenKey),
    });
    return { outcome: "removed" };
  } catch (error) {
    if (!isProviderError(error)) return { outcome: "unavailable", kind: null };
    if (error.kind === "card_not_found") return { outcome: "already_gone" };
    if (PROVIDER_UNAVAILABLE.has(error.kind)) return { outcome: "unavailable", kind: error.kind };
    return { outcome: "refused", kind: error.kind };
  }
}

export type CardRemoval =
  | {
      status: "removed";
      card: BoundCard;
      provider: Extract<ProviderCardRemoval, { outcome: "removed" | "already_gone" | "kept_shared" }>;
      subscriptionsStopped: number[];
      auditId: number;
      notificationId: string | null;
    }
  /** No such card (or not this owner's). */
  | { status: "not_found" }
  | { status: "already_removed" }
  /** The provider did not remove it: nothing changed here, the user may try again. */
  | {
      status: "provider_failed";
      provider: Extract<ProviderCardRemoval, { outcome: "refused" | "unavailable" }>;
    };

/**
 * A card's removal by its user or an admin: removed at the provider (unless another holder needs
 * it; already gone there is fine), then in the same transaction the card row removed, the
 * subscriptions that renewed with it stop auto-renewing, an audit row and, with `notifyUser` and an
 * active card, the user's "card deactivated" message. The provider call happens under the
 * provider-card lock, so its "nobody else holds it" answer still holds when the call is made.
 */
export async function removeCard(
  db: Database,
  deps: CardRemovalDeps,
  input: CardActionInput & {
    /** Only this user's card (the user's own removal); admins pass none. */
    ownerUserId?: number;
    notifyUser: boolean;
  },
): Promise<CardRemoval> {
  const seen = await getBoundCard(db, input.cardId);
  if (!seen || (input.ownerUserId !== undefined && seen.userId !== input.ownerUserId)) {
    return { status: "not_found" };
  }
  return db.transaction(async (tx): Promise<CardRemoval> => {
    // The provider card id of a row never changes: lock it first, then read the row's state.
    await lockProviderCard(tx, seen.cardRef);
    const card = await getBoundCard(tx, seen.id);
    if (!card) return { status: "not_found" };
    if (card.status === "removed" || card.status === "erased") return { status: "already_removed" };
    const provider = await removeAtProviderLocked(tx, deps, {
      cardRef: card.cardRef,
      encryptedToken: card.cardToken!,
      except: { exceptCardId: card.id },
    });
    if (provider.outcome === "refused" || provider.outcome === "unavailable") {
      return { status: "provider_failed", provider };
    }
    // Subscriptions first, then the card: the order a renewal takes them in.
    const subscriptionsStopped = await detachCardFromSubscriptions(tx, {
      userId: card.userId,
      boundCardId: card.id,
      now: input.now,
    });
    // Auto-renew off for each of them: the hosts hear premium.canceled (access stays until the end).
    for (const subscriptionId of subscriptionsStopped) {
      await recordPremiumEvent(
        tx,
        { clock: () => input.now },
        { type: "premium.canceled", subscriptionId, onlyIfLive: true },
      );
    }
    const removed = await markBoundCardRemoved(tx, card.id, input.now);
    if (!removed) throw new Error(`card ${card.id} changed under its provider-card lock`);
    const auditId = await writeAudit(
      tx,
      {
        actor: input.actor,
        action: "card.removed",
        entityType: "bound_card",
        entityId: card.id,
        reason: input.reason,
        details: {
          ...input.details,
          panMasked: card.panMasked,
          userId: card.userId,
          atmosCardId: card.cardRef,
          atmos: providerRemovalText(provider),
          subscriptionsStopped,
        },
      },
      input.now,
    );
    // A card already deactivated was announced then; removing it says nothing new.
    const notificationId =
      input.notifyUser && card.status === "active"
        ? await notifyCardDeactivated(tx, card, auditId, input.now)
        : null;
    return { status: "removed", card: removed, provider, subscriptionsStopped, auditId, notificationId };
  });
}

// ------------------------------------------------------------------ token erasure (maintenance)

export type TokenErasure =
  | { status: "erased"; provider: Exclude<ProviderCardRemoval, { outcome: "unavailable" }>; auditId: number }
  /** The provider gave no definite answer: the token is kept for the next run. */
  | { status: "deferred"; provider: Extract<ProviderCardRemoval, { outcome: "unavailable" }> }
  /** No longer due (re-activated by a late payment, erased by a concurrent run, being finalized). */
  | { status: "skipped" };

/**
 * A card removed since before `before` loses its token: removed at the provider (unless another
 * holder needs it; any definite answer will do), then the token dropped with an audit row. A token
 * charges the card without an SMS code, so it is kept only while it can be used.
 */
export async function eraseRetiredCardToken(
  db: Database,
  deps: CardRemovalDeps,
  input: { cardId: number; before: Date; actor: string; now: Date },
): Promise<TokenErasure> {
  const seen = await getBoundCard(db, input.cardId);
  if (!seen) return { status: "skipped" };
  return db.transaction(async (tx): Promise<TokenErasure> => {
    await lockProviderCard(tx, seen.cardRef);
    const card = await getBoundCard(tx, seen.id);
    if (card?.status !== "removed" || card.removedAt === null || card.removedAt > input.before) {
      return { status: "skipped" };
    }
    const provider = await removeAtProviderLocked(tx, deps, {
      cardRef: card.cardRef,
      encryptedToken: card.cardToken!,
      except: { exceptCardId: card.id },
    });
    if (provider.outcome === "unavailable") return { status: "deferred", provider };
    if (!(await eraseCardToken(tx, card.id, input.before, input.now))) return { status: "skipped" };
    const auditId = await writeAudit(
      tx,
      {
        actor: input.actor,
        action: "card.token_erased",
        entityType: "bound_card",
        entityId: card.id,
        reason: `removed or parked since ${card.removedAt.toISOString()}`,
        details: { atmos: providerRemovalText(provider), panMasked: card.panMasked },
      },
      input.now,
    );
    return { status: "erased", provider, auditId };
  });
}

/**
 * A payment session's card binding that was never used (the session failed or expired, or its
 * success charged another card) and has been still since before `before`: removed at the provider
 * (unless another holder needs it), then the session's token dropped with an audit row.
 */
export async function eraseStaleSessionBinding(
  db: Database,
  deps: CardRemovalDeps,
  input: { sessionId: string; cardRef: string; before: Date; actor: string; now: Date },
): Promise<TokenErasure> {
  return db.transaction(async (tx): Promise<TokenErasure> => {
    await lockProviderCard(tx, input.cardRef);
    const session = await lockStaleSessionBinding(tx, input);
    if (!session) return { status: "skipped" };
    const provider = await removeAtProviderLocked(tx, deps, {
      cardRef: input.cardRef,
      encryptedToken: session.bindCardToken!,
      except: { exceptSessionId: session.id },
    });
    if (provider.outcome === "unavailable") return { status: "deferred", provider };
    if (!(await eraseSessionBinding(tx, session.id, input.before))) return { status: "skipped" };
    const auditId = await writeAudit(
      tx,
      {
        actor: input.actor,
        action: "card.binding_erased",
        entityType: "payment_session",
        entityId: session.id,
        reason: `unused card binding of a ${session.status} session since ${session.updatedAt.toISOString()}`,
        details: {
          atmos: providerRemovalText(provider),
          atmosCardId: session.bindCardRef,
          panMasked: session.bindCardMasked,
        },
      },
      input.now,
    );
    return { status: "erased", provider, auditId };
  });
}
