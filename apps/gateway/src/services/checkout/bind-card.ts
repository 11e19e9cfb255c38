import { isProviderError, type SavedCard } from "@obuna/billing";
import { detectCardType, isLocalCardType } from "@obuna/contracts/card";
import type { PaymentSession } from "@obuna/db";
import { encryptCardToken } from "@obuna/db/crypto";
import { type PendingCardBinding, releaseSession, setProcessingBinding } from "@obuna/db/queries";
import { refuse } from "../outcome";
import { endAfterRefusal } from "./declines";
import { callProvider, isPassingFault, PRE_MONEY_ATTEMPTS, pause, retryPreMoney } from "./faults";
import type { EnteredCard } from "./send-code";
import type { Deps } from "./session";

export type BindingStart =
  | { status: "code_sent"; bindingId: string; phone: string | null }
  | { status: "already_bound"; binding: PendingCardBinding };

/**
 * Starts binding the entered card (auto_renew): the provider sends the cardholder a code, or already
 * holds this card for us (ATMOS ERR-133: bound by whoever typed it first, maybe another user) and
 * hands back its token. That token proves nothing about the payer: it stays on this session only
 * (encrypted, no card row for anyone), the payment's own code goes to the cardholder, and only a
 * success that charged this very card makes it the user's card.
 */
export async function startBinding(deps: Deps, card: EnteredCard): Promise<BindingStart> {
  const started = await callProvider(() =>
    retryPreMoney(deps, "bind-card-init", () =>
      deps.provider.startCardBinding({ cardNumber: card.pan, expiry: card.expiry }),
    ),
  );
  if (started.status === "code_sent") return started;
  return {
    status: "already_bound",
    binding: {
      bindCardRef: started.card.cardRef,
      bindCardToken: encryptCardToken(started.card.token, deps.config.cardTokenKey),
      bindCardMasked: started.card.panMasked || card.masked,
      bindCardExpiry: started.card.expiry || card.expiry,
      bindCardType: card.type,
    },
  };
}

/**
 * Confirms the session's card binding with the user's code and records it on the session (no card
 * row yet: success makes it the user's card only if the provider charged this card). Returns the
 * token. A passing fault is resolved by asking again: a confirm that did not arrive is confirmed now;
 * one that did take effect is answered "closed", and then the card is bound at the provider but its
 * token never reached us — the session goes back to payable without a card entry, and entering the
 * card again gets the bound card with its token (already_bound).
 */
export async function confirmBinding(
  deps: Deps,
  claimed: PaymentSession,
  bindingId: string,
  code: string,
): Promise<string> {
  let bound: SavedCard | null = null;
  for (let attempt = 1; bound === null; attempt++) {
    try {
      bound = await deps.provider.confirmCardBinding({ bindingId, code });
    } catch (error) {
      if (attempt > 1 && isProviderError(error) && error.kind === "payment_closed") {
        deps.logger.warn(
          { sessionId: claimed.id },
          "card binding confirmed under a fault: card entry needed again",
        );
        await releaseSession(deps.db, claimed.id, { now: deps.clock(), clearCardEntry: true });
        refuse("INVALID_STATE", "Enter the card again to finish the payment", {
          details: { action: "pre_apply_again" },
        });
      }
      if (isPassingFault(error) && attempt < PRE_MONEY_ATTEMPTS) {
        deps.logger.warn(
          { step: "bind-confirm", attempt, kind: error.kind },
          "passing ATMOS fault: asking again",
        );
        await pause(150 * attempt);
        continue;
      }
      return endAfterRefusal(deps, claimed, error, "bind-confirm");
    }
  }
  const detected = detectCardType(bound.panMasked);
  const recorded = await setProcessingBinding(deps.db, claimed.id, {
    bindCardRef: bound.cardRef,
    bindCardToken: encryptCardToken(bound.token, deps.config.cardTokenKey),
    bindCardMasked: bound.panMasked || claimed.cardMasked,
    bindCardExpiry: bound.expiry,
    bindCardType: isLocalCardType(detected) ? detected : "uzcard",
    now: deps.clock(),
  });
  if (!recorded) {
    // The session left `processing` under us (nothing charged yet): stop before the charge.
    refuse("INVALID_STATE", "The session changed; try again");
  }
  return bound.token;
}
