import { type AtmosClient, isAtmosError } from "@obuna/atmos";
import {
  type PaymentProvider,
  PROVIDER_ERROR_KINDS,
  ProviderError,
  type ProviderErrorKind,
} from "@obuna/billing";

/**
 * Interim: the money core's card removal speaks the PaymentProvider port; until the ATMOS adapter
 * replaces `deps.atmos` with `deps.provider`, this wraps the ATMOS client's remove-card (the ATMOS
 * error kinds of that call carry the port's names).
 */
export function atmosCardRemover(
  atmos: Pick<AtmosClient, "removeCard">,
): Pick<PaymentProvider, "removeCard"> {
  return {
    removeCard: ({ cardRef, cardToken }) =>
      atmos.removeCard({ cardId: Number(cardRef), cardToken }).catch((error: unknown) => {
        if (!isAtmosError(error)) throw error;
        const kind = (PROVIDER_ERROR_KINDS as readonly string[]).includes(error.kind)
          ? (error.kind as ProviderErrorKind)
          : "internal";
        throw new ProviderError({
          provider: "atmos",
          kind,
          message: error.message,
          code: error.code,
          httpStatus: error.httpStatus,
          retryable: error.retryable,
          outcomeUnknown: error.outcomeUnknown,
          cause: error,
        });
      }),
  };
}
