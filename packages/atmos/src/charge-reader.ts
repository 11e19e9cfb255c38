import { isAtmosError } from "./errors";
import type { AtmosClient, AtmosTransaction } from "./interface";

/** What `get` says of a charge, in the shape the money core's settlement reads (@obuna/billing). */
export interface AtmosChargeReading {
  transactionId: number;
  state: AtmosTransaction["state"];
  successTransId: number | null;
  ofdUrl: string | null;
  cardId: string | null;
}

/**
 * Asks ATMOS for a transaction: its reading, `not_found` when ATMOS never had it, or null when
 * ATMOS could not be asked (the outcome stays unknown; the caller tries again later).
 */
export function createChargeReader(
  atmos: Pick<AtmosClient, "getTransaction">,
  onError?: (error: unknown, transactionId: number) => void,
) {
  return async (transactionId: number): Promise<AtmosChargeReading | "not_found" | null> => {
    try {
      const t = await atmos.getTransaction(transactionId);
      return {
        transactionId: t.transactionId,
        state: t.state,
        successTransId: t.successTransId,
        ofdUrl: t.ofdUrl,
        cardId: t.cardId,
      };
    } catch (error) {
      if (isAtmosError(error) && error.kind === "transaction_not_found") return "not_found";
      onError?.(error, transactionId);
      return null;
    }
  };
}
