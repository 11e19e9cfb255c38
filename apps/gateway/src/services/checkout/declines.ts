import { isProviderError } from "@obuna/billing";
import type { PaymentSession } from "@obuna/db";
import { releaseSession } from "@obuna/db/queries";
import { refuse } from "../outcome";
import { isTerminalDecline, providerRefusal } from "./errors";
import { type Deps, MAX_OTP_ATTEMPTS } from "./session";
import { failPayment } from "./settle";

/**
 * A confirm-phase step (binding confirm, saved-card preparation, the confirm itself) failed with a
 * clear answer on a session this request holds (`processing`): counts a wrong code, fails the
 * session on a terminal decline, otherwise puts it back to payable; always ends with the refusal.
 * `terminal`: the attempt ends whatever the error (the provider refused the saved card).
 */
export async function endAfterRefusal(
  deps: Deps,
  session: PaymentSession,
  error: unknown,
  step: string,
  options: { terminal?: boolean } = {},
): Promise<never> {
  const now = deps.clock();
  if (!isProviderError(error)) {
    await releaseSession(deps.db, session.id, { now });
    throw error;
  }
  deps.logger.info({ sessionId: session.id, step, kind: error.kind, code: error.code }, "ATMOS refused");
  const mapped = providerRefusal(error);
  if (error.kind === "wrong_code" && !options.terminal) {
    const attempts = session.otpAttempts + 1;
    if (attempts >= MAX_OTP_ATTEMPTS) {
      await failPayment(deps, session.id, "otp_attempts_exceeded", "Too many wrong SMS codes", attempts);
      refuse("OTP_ATTEMPTS_EXCEEDED", "Too many wrong SMS codes; the session has failed", {
        details: { attempts_left: 0 },
      });
    }
    await releaseSession(deps.db, session.id, { otpAttempts: attempts, now });
    refuse("WRONG_OTP", "Wrong SMS code", {
      field: "otp",
      details: { attempts_left: MAX_OTP_ATTEMPTS - attempts },
    });
  }
  if (error.kind === "code_attempts_exceeded" && !options.terminal) {
    // The provider closed the payment after its own limit of wrong codes: this one counts too.
    const attempts = Math.max(session.otpAttempts + 1, MAX_OTP_ATTEMPTS);
    await failPayment(deps, session.id, "otp_attempts_exceeded", "Too many wrong SMS codes", attempts);
    refuse("OTP_ATTEMPTS_EXCEEDED", "Too many wrong SMS codes; the session has failed", {
      details: { attempts_left: 0 },
    });
  }
  if (error.kind === "code_expired" && !options.terminal) {
    await releaseSession(deps.db, session.id, { now });
    refuse("OTP_EXPIRED", mapped.message, { field: "otp" });
  }
  if (options.terminal || isTerminalDecline(error)) {
    await failPayment(deps, session.id, failureReason(error.kind), mapped.message);
    const code =
      options.terminal && mapped.code === "PAYMENT_PROVIDER_UNAVAILABLE" ? "CARD_DECLINED" : mapped.code;
    refuse(
      code,
      options.terminal && code === "CARD_DECLINED"
        ? "The payment could not be started; ask the bot for a new link"
        : mapped.message,
    );
  }
  // Nothing happened at the provider (e.g. a refused connection): the session stays payable.
  await releaseSession(deps.db, session.id, { now });
  refuse(mapped.code, mapped.message);
}

/**
 * The stored failure reason keeps the words it always had (sessions, admin and the bot read them):
 * the port's kind names where they differ from the ATMOS ones.
 */
function failureReason(kind: string): string {
  const stored: Record<string, string> = {
    code_attempts_exceeded: "otp_attempts_exceeded",
    payment_closed: "transaction_closed",
    payment_not_found: "transaction_not_found",
  };
  return stored[kind] ?? kind;
}
