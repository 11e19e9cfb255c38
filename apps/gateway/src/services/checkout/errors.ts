import type { ProviderError } from "@obuna/billing";
import type { ErrorCode } from "@obuna/contracts/errors";

/** A provider refusal as the client sees it: a closed error code and a message without card data. */
export function providerRefusal(error: ProviderError): { code: ErrorCode; message: string } {
  switch (error.kind) {
    case "insufficient_funds":
      return { code: "INSUFFICIENT_FUNDS", message: "Insufficient funds on the card" };
    case "card_expired":
      return { code: "CARD_EXPIRED", message: "The card has expired" };
    case "card_blocked":
      return { code: "CARD_BLOCKED", message: "The card is blocked" };
    case "card_not_found":
      return { code: "INVALID_CARD", message: "The card was not found by the bank" };
    case "invalid_params":
      return { code: "INVALID_CARD", message: "The card number or expiry was refused" };
    case "sms_not_connected":
      return { code: "SMS_NOT_CONNECTED", message: "SMS notifications are not connected to this card" };
    case "wrong_code":
      return { code: "WRONG_OTP", message: "Wrong SMS code" };
    case "code_expired":
      return { code: "OTP_EXPIRED", message: "The SMS code has expired; request a new one" };
    case "code_attempts_exceeded":
      return { code: "OTP_ATTEMPTS_EXCEEDED", message: "Too many wrong SMS codes" };
    case "declined":
    case "card_already_bound":
      return { code: "CARD_DECLINED", message: "The payment was declined" };
    case "payment_closed":
    case "payment_not_found":
      return { code: "INVALID_STATE", message: "The payment transaction is closed" };
    default:
      return {
        code: "PAYMENT_PROVIDER_UNAVAILABLE",
        message: "The payment provider is unavailable; try again",
      };
  }
}

/** Declines that end the session (the provider's payment cannot be paid any more). */
export function isTerminalDecline(error: ProviderError): boolean {
  return [
    "insufficient_funds",
    "card_expired",
    "card_blocked",
    "card_not_found",
    "declined",
    "code_attempts_exceeded",
    "payment_closed",
    "payment_not_found",
    "sms_not_connected",
    "invalid_params",
    "card_already_bound",
  ].includes(error.kind);
}
