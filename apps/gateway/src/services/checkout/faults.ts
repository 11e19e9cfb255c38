import { isProviderError, type ProviderError } from "@obuna/billing";
import { refuse } from "../outcome";
import { providerRefusal } from "./errors";
import type { Deps } from "./session";

/** One step before money moves is sent at most this often after passing faults (1 + retries)... */
export const PRE_MONEY_ATTEMPTS = 3;
/** ...and is not sent again once this much time went by (a timeout of tens of seconds is not retried). */
const PRE_MONEY_BUDGET_MS = 8_000;

/**
 * A passing provider fault, not a refusal: a 5xx, no or an unreadable answer, a dropped connection,
 * or a result code we do not know. The card and the request may well be fine.
 */
export function isPassingFault(error: unknown): error is ProviderError {
  return isProviderError(error) && (error.retryable || error.outcomeUnknown);
}

export function pause(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends one provider step that moves no money again after a passing fault (short backoff, at most
 * PRE_MONEY_ATTEMPTS within PRE_MONEY_BUDGET_MS). Only for steps whose repeat is harmless even when
 * the faulted call took effect: create (a second payment; the first is never pre-applied or
 * charged), card binding start and sending the code by card (a new SMS code, as a resend),
 * preparing the saved-card payment (arms the same payment again). Never for the confirm: an unclear
 * confirm is resolved with `getPayment` (confirm.ts), and a binding's confirm in bind-card.ts.
 */
export async function retryPreMoney<T>(
  deps: Deps,
  step: string,
  call: (attempt: number) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      const spent = performance.now() - started;
      if (!isPassingFault(error) || attempt >= PRE_MONEY_ATTEMPTS || spent >= PRE_MONEY_BUDGET_MS)
        throw error;
      deps.logger.warn(
        { step, attempt, kind: error.kind },
        "passing ATMOS fault before money moves: sending again",
      );
      await pause(150 * attempt);
    }
  }
}

/** Runs a provider call whose failure leaves nothing changed; its error becomes the step's refusal. */
export async function callProvider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!isProviderError(error)) throw error;
    const mapped = providerRefusal(error);
    return refuse(mapped.code, mapped.message, { cause: error });
  }
}
