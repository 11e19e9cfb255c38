import { checkPan, isExpired, maskPan, parseExpiry, toAtmosExpiry } from "@obuna/contracts/card";
import type { AtmosPreApplyResponse } from "@obuna/contracts/http";
import type { PaymentSession } from "@obuna/db";
import {
  endCardEntry,
  NO_PENDING_BINDING,
  type PendingCardBinding,
  startCardEntry,
  updatePendingSession,
} from "@obuna/db/queries";
import type { Caller } from "../../context";
import { asResult, type CheckoutResult, refuse } from "../outcome";
import { startBinding } from "./bind-card";
import { callProvider, retryPreMoney } from "./faults";
import {
  assertPayable,
  assertPayment,
  cooldownMs,
  type Deps,
  loadSession,
  MAX_OTP_ATTEMPTS,
} from "./session";

/** A card entry (pre-apply) holds its session at most this long (binding start + sending the code). */
const CARD_ENTRY_HOLD_MS = 3 * 60 * 1000;

export interface EnteredCard {
  pan: string;
  type: "uzcard" | "humo";
  /** YYMM, as the provider takes it. */
  expiry: string;
  masked: string;
}

/**
 * checkout/pre-apply: checks the card and has the provider send the cardholder an SMS code (binding
 * the card first when auto_renew is on).
 */
export function sendCode(
  deps: Deps,
  caller: Caller,
  input: {
    session_id: string;
    transaction_id: number;
    card_number: string;
    expiry: string;
    offer_version?: string | undefined;
  },
): Promise<CheckoutResult<AtmosPreApplyResponse>> {
  return asResult(async () => {
    const view = await loadSession(deps, caller, input.session_id);
    const { session } = view;
    assertPayable(session);
    // The payer accepts the public offer by paying: the version they saw must be the current one.
    const offer = deps.config.offer;
    if (offer && input.offer_version !== undefined && input.offer_version !== offer.version) {
      refuse("INVALID_STATE", "The public offer has changed; reload the page to read it", {
        field: "offer_version",
        details: { current_version: offer.version },
      });
    }
    const externalId = assertPayment(session, input.transaction_id);
    if (session.otpAttempts >= MAX_OTP_ATTEMPTS) {
      refuse("OTP_ATTEMPTS_EXCEEDED", "Too many wrong SMS codes for this session");
    }
    const checked = checkPan(input.card_number);
    if (!checked.ok) {
      if (checked.problem === "unsupported_card") {
        refuse("UNSUPPORTED_CARD", "Only UzCard and Humo cards are accepted", { field: "card_number" });
      }
      refuse("INVALID_CARD", "The card number is not valid", { field: "card_number" });
    }
    const expiry = parseExpiry(input.expiry);
    if (!expiry) refuse("VALIDATION_ERROR", "expiry must be MM/YY or YYMM", { field: "expiry" });
    const now = deps.clock();
    if (isExpired(expiry, now)) refuse("CARD_EXPIRED", "The card has expired", { field: "expiry" });
    const card: EnteredCard = {
      pan: checked.pan,
      type: checked.type,
      expiry: toAtmosExpiry(expiry),
      masked: maskPan(checked.pan),
    };

    // One card entry at a time: two concurrent entries could leave the provider awaiting one card
    // while the session records the other's binding.
    const entryUntil = new Date(now.getTime() + CARD_ENTRY_HOLD_MS);
    if (!(await startCardEntry(deps.db, session.id, now, entryUntil))) {
      refuse("INVALID_STATE", "A card is already being checked for this session; try again");
    }
    try {
      const accepted = offer && input.offer_version !== undefined ? offer.version : null;
      return await enterCard(deps, session, externalId, card, now, accepted);
    } finally {
      await endCardEntry(deps.db, session.id, entryUntil);
    }
  });
}

async function enterCard(
  deps: Deps,
  session: PaymentSession,
  externalId: string,
  card: EnteredCard,
  now: Date,
  offerVersion: string | null,
): Promise<AtmosPreApplyResponse> {
  let phone: string | null = null;
  let bindingId: string | null = null;
  // Each card entry replaces the session's pending binding: which card this flow bound is decided
  // by the last entry, and success activates only that card (and only if the provider charged it).
  let binding: PendingCardBinding = NO_PENDING_BINDING;
  const started = session.autoRenew ? await startBinding(deps, card) : null;
  if (started?.status === "code_sent") {
    bindingId = started.bindingId;
    phone = started.phone;
  } else {
    if (started?.status === "already_bound") binding = started.binding;
    const sent = await callProvider(() =>
      retryPreMoney(deps, "pre-apply", () =>
        deps.provider.sendPaymentCode({ externalId, cardNumber: card.pan, expiry: card.expiry }),
      ),
    );
    phone = sent.phone;
  }
  const updated = await updatePendingSession(deps.db, session.id, {
    cardMasked: card.masked,
    bindingId,
    ...binding,
    otpSentAt: now,
    cardEntryUntil: null,
    // The offer accepted with this card entry (the last entry before apply is the one that pays).
    offerVersion,
    offerAcceptedAt: offerVersion === null ? null : now,
    now,
  });
  if (!updated) refuse("INVALID_STATE", "The session changed while the card was being checked");
  return {
    session_id: session.id,
    transaction_id: Number(externalId),
    card_masked: card.masked,
    card_type: card.type,
    phone_masked: maskPhone(phone),
    otp_length: 6,
    otp_attempts_left: Math.max(0, MAX_OTP_ATTEMPTS - updated.otpAttempts),
    resend_available_at: new Date(now.getTime() + cooldownMs(deps)).toISOString(),
  };
}

export function maskPhone(phone: string | null): string | null {
  if (!phone) return null;
  const digits = phone.replace(/\D/g, "");
  if (digits.length < 4) return null;
  if (phone.includes("*")) return phone;
  return `${"*".repeat(Math.max(0, digits.length - 4))}${digits.slice(-4)}`;
}
