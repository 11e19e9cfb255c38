import { updatePendingSession } from "@obuna/db/queries";
import type { Caller } from "../../context";
import { asResult, type CheckoutResult, refuse } from "../outcome";
import { callProvider } from "./faults";
import { assertPayable, assertPayment, cooldownMs, type Deps, loadSession } from "./session";

/** checkout/resend-otp: the payment's SMS code again, at most once per cooldown. */
export function resendCode(
  deps: Deps,
  caller: Caller,
  input: { session_id: string; transaction_id: number },
): Promise<CheckoutResult<{ session_id: string; resend_available_at: string }>> {
  return asResult(async () => {
    const view = await loadSession(deps, caller, input.session_id);
    const { session } = view;
    assertPayable(session);
    const externalId = assertPayment(session, input.transaction_id);
    if (session.otpSentAt === null) refuse("INVALID_STATE", "No SMS code was sent yet: enter the card first");
    const now = deps.clock();
    const availableAt = new Date(session.otpSentAt.getTime() + cooldownMs(deps));
    if (now < availableAt) {
      refuse("OTP_RESEND_TOO_SOON", "Wait before asking for a new SMS code", {
        details: {
          resend_available_at: availableAt.toISOString(),
          retry_after_s: Math.ceil((availableAt.getTime() - now.getTime()) / 1000),
        },
      });
    }
    if (session.bindingId !== null) {
      // The port has no resend for a card binding: a fresh card entry sends a new code.
      refuse("INVALID_STATE", "Enter the card again to receive a new SMS code", {
        details: { action: "pre_apply_again" },
      });
    }
    await callProvider(() => deps.provider.resendPaymentCode(externalId));
    await updatePendingSession(deps.db, session.id, { otpSentAt: now, now });
    return {
      session_id: session.id,
      resend_available_at: new Date(now.getTime() + cooldownMs(deps)).toISOString(),
    };
  });
}
