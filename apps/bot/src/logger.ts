import pino, { type Logger } from "pino";

/**
 * Structured logs. Handlers log ids only; the redact list is a second line of defence in case a
 * card number, OTP, token or Authorization header is ever passed into a log call.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { app: "bot", ...base },
    redact: {
      paths: [
        "card_number",
        "*.card_number",
        "otp",
        "*.otp",
        "cardToken",
        "*.cardToken",
        "card_token",
        "*.card_token",
        "token",
        "*.token",
        "authorization",
        "*.authorization",
        "headers.authorization",
      ],
      censor: "[redacted]",
    },
  });
}
