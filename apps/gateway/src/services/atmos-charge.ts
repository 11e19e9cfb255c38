import type { AtmosChargeReading, AtmosTransaction } from "@obuna/atmos";
import type { ReadCharge, SessionChargeReading } from "@obuna/billing";

/**
 * The ATMOS client speaks numbers for its ids; the money core and our rows keep a provider's ids as
 * text (ATMOS ids are their digits, `String(n)`). These turn an ATMOS reading into the core's.
 */
export function atmosChargeReading(
  t:
    | Pick<AtmosTransaction, "transactionId" | "state" | "successTransId" | "ofdUrl" | "cardId">
    | AtmosChargeReading,
): SessionChargeReading {
  return {
    externalId: String(t.transactionId),
    state: t.state,
    settlementId: t.successTransId === null ? null : String(t.successTransId),
    ofdUrl: t.ofdUrl,
    cardId: t.cardId,
  };
}

/** An ATMOS charge reader (`createChargeReader`) as the money core's `ReadCharge`. */
export function atmosReadCharge(
  read: (transactionId: number) => Promise<AtmosChargeReading | "not_found" | null>,
): ReadCharge {
  return async (externalId) => {
    const r = await read(Number(externalId));
    return r === null || r === "not_found" ? r : atmosChargeReading(r);
  };
}
