import { isAtmosError } from "@obuna/atmos";
import { writeAudit } from "@obuna/billing";
import {
  atmosCardSharedByLiveRow,
  eraseCardToken,
  eraseSessionBinding,
  findRetiredCardsWithToken,
  findSessionsWithStaleBinding,
  revealCardToken,
} from "@obuna/db/queries";
import type { RenewalContext } from "./deps";

/** A removed or parked card keeps its token this long (a late payment may still un-park it). */
export const RETIRED_CARD_TOKEN_KEPT_MS = 24 * 3_600_000;

/** ATMOS did not answer definitively: keep the token and try again on the next run. */
const TRANSIENT = new Set(["timeout", "network", "server_error", "bad_response", "unauthorized", "internal"]);

/**
 * Removes a card at ATMOS unless a live card row shares its ATMOS card id (ATMOS keeps one binding per
 * card for the whole merchant, whoever typed it). Returns what happened there, or `deferred` when
 * ATMOS did not answer definitively.
 */
async function removeAtAtmosUnlessShared(
  ctx: RenewalContext,
  card: { cardId: number; cardToken: string },
  log: Record<string, unknown>,
): Promise<string | "deferred"> {
  if (await atmosCardSharedByLiveRow(ctx.db, card.cardId)) return "kept: shared with a live card row";
  try {
    await ctx.atmos.removeCard({ cardId: card.cardId, cardToken: revealCardToken(card, ctx.cardTokenKey) });
    return "removed";
  } catch (error) {
    if (!isAtmosError(error) || TRANSIENT.has(error.kind)) {
      ctx.logger.warn(
        { ...log, err: isAtmosError(error) ? error.kind : (error as Error).message },
        "card token erasure deferred: ATMOS remove-card failed",
      );
      return "deferred";
    }
    // ATMOS answered (card_not_found after a user's removal, …): nothing left to remove there.
    return error.kind;
  }
}

/**
 * Erases the tokens of cards removed or parked for over a day, and of card bindings a payment session
 * made but never used (the session failed, expired or its success charged another card) a day after
 * the session last changed: the card is removed at ATMOS (already gone there is fine) unless another
 * live card row uses the same ATMOS card, then the encrypted token is dropped with an audit row.
 * Without this a token, which can charge the card without an SMS code, would be kept forever.
 * ATMOS unreachable → the card waits for the next run.
 */
export async function eraseRetiredCardTokens(ctx: RenewalContext, options: { limit?: number } = {}) {
  const now = ctx.clock();
  const before = new Date(now.getTime() - RETIRED_CARD_TOKEN_KEPT_MS);
  let erased = 0;
  let deferred = 0;
  for (const card of await findRetiredCardsWithToken(ctx.db, before, options.limit ?? 200)) {
    const atmosOutcome = await removeAtAtmosUnlessShared(
      ctx,
      { cardId: card.cardId, cardToken: card.cardToken! },
      { boundCardId: card.id },
    );
    if (atmosOutcome === "deferred") {
      deferred++;
      continue;
    }
    const done = await ctx.db.transaction(async (tx) => {
      if (!(await eraseCardToken(tx, card.id, before, now))) return false;
      await writeAudit(
        tx,
        {
          actor: "renewals",
          action: "card.token_erased",
          entityType: "bound_card",
          entityId: card.id,
          reason: `removed or parked since ${card.removedAt?.toISOString()}`,
          details: { atmos: atmosOutcome, panMasked: card.panMasked },
        },
        now,
      );
      return true;
    });
    if (done) erased++;
  }
  for (const session of await findSessionsWithStaleBinding(ctx.db, before, options.limit ?? 200)) {
    const atmosOutcome = await removeAtAtmosUnlessShared(
      ctx,
      { cardId: session.bindCardId!, cardToken: session.bindCardToken! },
      { sessionId: session.id },
    );
    if (atmosOutcome === "deferred") {
      deferred++;
      continue;
    }
    const done = await ctx.db.transaction(async (tx) => {
      if (!(await eraseSessionBinding(tx, session.id, before))) return false;
      await writeAudit(
        tx,
        {
          actor: "renewals",
          action: "card.binding_erased",
          entityType: "payment_session",
          entityId: session.id,
          reason: `unused card binding of a ${session.status} session since ${session.updatedAt.toISOString()}`,
          details: {
            atmos: atmosOutcome,
            atmosCardId: session.bindCardId,
            panMasked: session.bindCardMasked,
          },
        },
        now,
      );
      return true;
    });
    if (done) erased++;
  }
  return { erased, deferred };
}
