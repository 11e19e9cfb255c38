/** Pure mapping from ATMOS wire objects to our types. */
import type { AtmosBoundCard, AtmosCardSummary, AtmosOfdItem, AtmosTransaction } from "./interface";
import type { WireStoreTransaction } from "./wire";
import { isOkCode } from "./wire";

const REVERSED_MESSAGES = new Set(["canceled", "cancelled", "reversed"]);

/**
 * Reads the state of a transaction. Decided by `confirmed` / `success_trans_id` / `prepay_time`,
 * never by `result.code` alone: a `get` on a closed transaction answers STPIMS-ERR-092 with data.
 */
export function transactionState(st: WireStoreTransaction, resultCode: string): AtmosTransaction["state"] {
  const paid = st.confirmed || (st.success_trans_id !== null && st.success_trans_id > 0);
  const message = st.status_message?.toLowerCase() ?? "";
  if (paid) return REVERSED_MESSAGES.has(message) ? "reversed" : "confirmed";
  if (!isOkCode(resultCode)) return "closed";
  return st.prepay_time !== null ? "pre_applied" : "created";
}

/**
 * The receipt link as we pass it on: only an absolute http(s) URL of sane length. It ends up as a
 * link in the bot and the Mini App, so anything else (a `javascript:` URL, garbage) counts as no
 * receipt rather than being shown.
 */
export function receiptLink(value: string | null): string | null {
  if (value === null || value.length > 2048) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === "https:" || url.protocol === "http:" ? url.toString() : null;
  } catch {
    return null;
  }
}

export function toAtmosTransaction(
  st: WireStoreTransaction,
  resultCode: string,
  fallbackTransactionId: number,
  ofdUrl: string | null = null,
): AtmosTransaction {
  const state = transactionState(st, resultCode);
  return {
    transactionId: st.trans_id ?? fallbackTransactionId,
    successTransId: st.success_trans_id !== null && st.success_trans_id > 0 ? st.success_trans_id : null,
    account: st.account,
    amount: st.amount,
    // A reversed transaction was paid once and refunded: it is not a payment (never grant for it).
    confirmed: state === "confirmed",
    state,
    cardId: st.card_id,
    statusCode: st.status_code,
    statusMessage: st.status_message,
    ofdUrl: receiptLink(ofdUrl),
    confirmTime: st.confirm_time,
  };
}

export function toBoundCard(card: {
  card_id: number;
  pan: string;
  expiry: string;
  card_holder: string | null;
  phone: string | null;
  card_token: string;
}): AtmosBoundCard {
  return {
    cardId: card.card_id,
    panMasked: card.pan,
    expiry: card.expiry,
    cardHolder: card.card_holder,
    phone: card.phone,
    cardToken: card.card_token,
  };
}

export function toCardSummary(card: {
  card_id: number;
  pan: string;
  expiry: string;
  card_token: string;
}): AtmosCardSummary {
  return { cardId: card.card_id, panMasked: card.pan, expiry: card.expiry, cardToken: card.card_token };
}

/**
 * One receipt line on the wire: `{ofd_code, name, amount, quantity}` as integrators send it [L];
 * `package_code` and `vat_percent` only when set (their names are [U], see atmos-api.md §13).
 */
export function toWireOfdItem(item: AtmosOfdItem): Record<string, string | number> {
  return {
    ofd_code: item.ofdCode,
    name: item.name,
    amount: item.amount,
    quantity: item.quantity,
    ...(item.packageCode !== undefined ? { package_code: item.packageCode } : {}),
    ...(item.vatPercent !== undefined ? { vat_percent: item.vatPercent } : {}),
  };
}
