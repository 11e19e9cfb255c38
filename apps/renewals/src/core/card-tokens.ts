import { eraseRetiredCardToken, eraseStaleSessionBinding, type TokenErasure } from "@obuna/billing";
import { findRetiredCardsWithToken, findSessionsWithStaleBinding } from "@obuna/db/queries";
import type { RenewalContext } from "./deps";

/** A removed or parked card keeps its token this long (a late payment may still un-park it). */
export const RETIRED_CARD_TOKEN_KEPT_MS = 24 * 3_600_000;

/**
 * Erases the tokens of cards removed or parked for over a day, and of card bindings a payment session
 * made but never used (the session failed, expired or its success charged another card) a day after
 * the session last changed: the card is removed at ATMOS (already gone there is fine) unless another
 * live card row or a payment in progress holds the same ATMOS card, then the encrypted token is
 * dropped with an audit row (the money core's eraseRetiredCardToken / eraseStaleSessionBinding).
 * Without this a token, which can charge the card without an SMS code, would be kept forever.
 * ATMOS unreachable → the card waits for the next run.
 */
export async function eraseRetiredCardTokens(ctx: RenewalContext, options: { limit?: number } = {}) {
  const now = ctx.clock();
  const before = new Date(now.getTime() - RETIRED_CARD_TOKEN_KEPT_MS);
  const deps = { cardTokenKey: ctx.cardTokenKey, provider: ctx.provider };
  let erased = 0;
  let deferred = 0;
  const count = (outcome: TokenErasure, log: Record<string, unknown>) => {
    if (outcome.status === "erased") erased++;
    if (outcome.status === "deferred") {
      deferred++;
      ctx.logger.warn(
        { ...log, err: outcome.provider.kind ?? "not a provider error" },
        "card token erasure deferred: ATMOS remove-card failed",
      );
    }
  };
  for (const card of await findRetiredCardsWithToken(ctx.db, before, options.limit ?? 200)) {
    count(await eraseRetiredCardToken(ctx.db, deps, { cardId: card.id, before, actor: "renewals", now }), {
      boundCardId: card.id,
    });
  }
  for (const session of await findSessionsWithStaleBinding(ctx.db, before, options.limit ?? 200)) {
    count(
      await eraseStaleSessionBinding(ctx.db, deps, {
        sessionId: session.id,
        cardRef: session.bindCardRef!,
        before,
        actor: "renewals",
        now,
      }),
      { sessionId: session.id },
    );
  }
  return { erased, deferred };
}
