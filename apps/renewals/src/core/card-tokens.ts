import { isAtmosError } from "@obuna/atmos";
import { eraseCardToken, findRetiredCardsWithToken, revealCardToken } from "@obuna/db/queries";
import { auditLog } from "@obuna/db/schema";
import type { RenewalContext } from "./deps";

/** A removed or parked card keeps its token this long (a late payment may still un-park it). */
export const RETIRED_CARD_TOKEN_KEPT_MS = 24 * 3_600_000;

/** ATMOS did not answer definitively: keep the token and try again on the next run. */
const TRANSIENT = new Set(["timeout", "network", "server_error", "bad_response", "unauthorized", "internal"]);

/**
 * Erases the tokens of cards removed or parked for over a day: the card is removed at ATMOS
 * (already gone there is fine), then its encrypted token is dropped with an audit row. A parked card
 * is one bound during a payment that never completed; without this its token, which can charge the
 * card without an SMS code, would be kept forever. ATMOS unreachable → the card waits for the next run.
 */
export async function eraseRetiredCardTokens(ctx: RenewalContext, options: { limit?: number } = {}) {
  const now = ctx.clock();
  const before = new Date(now.getTime() - RETIRED_CARD_TOKEN_KEPT_MS);
  let erased = 0;
  let deferred = 0;
  for (const card of await findRetiredCardsWithToken(ctx.db, before, options.limit ?? 200)) {
    let atmosOutcome = "removed";
    try {
      await ctx.atmos.removeCard({ cardId: card.cardId, cardToken: revealCardToken(card, ctx.cardTokenKey) });
    } catch (error) {
      if (!isAtmosError(error) || TRANSIENT.has(error.kind)) {
        deferred++;
        ctx.logger.warn(
          { boundCardId: card.id, err: isAtmosError(error) ? error.kind : (error as Error).message },
          "card token erasure deferred: ATMOS remove-card failed",
        );
        continue;
      }
      // ATMOS answered (card_not_found after a user's removal, …): nothing left to remove there.
      atmosOutcome = error.kind;
    }
    const done = await ctx.db.transaction(async (tx) => {
      if (!(await eraseCardToken(tx, card.id, before, now))) return false;
      await tx.insert(auditLog).values({
        actor: "renewals",
        action: "card.token_erased",
        entityType: "bound_card",
        entityId: String(card.id),
        reason: `removed or parked since ${card.removedAt?.toISOString()}`,
        details: { atmos: atmosOutcome, panMasked: card.panMasked },
        createdAt: now,
      });
      return true;
    });
    if (done) erased++;
  }
  return { erased, deferred };
}
