import { isProviderError, type PaymentProvider } from "./provider";
import type { ReadCharge } from "./session-settlement";

/**
 * The settlement's `ReadCharge` over the PaymentProvider port: asks the provider for a payment and
 * answers its reading, `not_found` when the provider never had it, or null when it could not be
 * asked (the outcome stays unknown; the caller tries again later). `onError` hears the last case.
 */
export function providerChargeReader(
  provider: Pick<PaymentProvider, "getPayment">,
  onError?: (error: unknown, externalId: string) => void,
): ReadCharge {
  return async (externalId) => {
    try {
      const payment = await provider.getPayment(externalId);
      return {
        externalId: payment.externalId,
        state: payment.state,
        settlementId: payment.settlementId,
        ofdUrl: payment.receiptUrl,
        cardId: payment.cardRef,
      };
    } catch (error) {
      if (isProviderError(error) && error.kind === "payment_not_found") return "not_found";
      onError?.(error, externalId);
      return null;
    }
  };
}
