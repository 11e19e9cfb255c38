/**
 * Logging for ATMOS calls. Card numbers, OTPs, card tokens and access tokens never reach a log
 * line: bodies are passed through `redactForLog` (PAN → mask, secrets → "[redacted]") and the
 * logger also carries pino `redact` paths as a second guard.
 */
import { maskPan } from "@obuna/contracts/card";
import pino, { type Logger } from "pino";

export type { Logger } from "pino";

const SECRET_KEYS = new Set([
  "otp",
  "card_token",
  "cardtoken",
  "token",
  "access_token",
  "accesstoken",
  "refresh_token",
  "authorization",
  "consumer_secret",
  "consumersecret",
  "api_key",
  "apikey",
  "sign",
  "cvv",
]);
const PAN_KEYS = new Set(["card_number", "cardnumber", "pan"]);

/** pino redact paths: the top level and one level down of every secret field name. */
export const REDACT_PATHS = [
  "card_number",
  "cardNumber",
  "otp",
  "card_token",
  "cardToken",
  "access_token",
  "accessToken",
  "authorization",
  "Authorization",
  "headers.authorization",
  "headers.Authorization",
  "*.card_number",
  "*.cardNumber",
  "*.otp",
  "*.card_token",
  "*.cardToken",
  "*.access_token",
  "*.authorization",
  "*.Authorization",
];

/** A copy of a JSON value safe to log: masked PANs, secrets replaced, PAN-like digit runs masked. */
export function redactForLog(value: unknown, depth = 0): unknown {
  if (depth > 6) return "[depth]";
  if (typeof value === "string") return value.replace(/(?<!\d)\d{13,19}(?!\d)/g, (pan) => maskPan(pan));
  if (Array.isArray(value)) return value.map((item) => redactForLog(item, depth + 1));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const lower = key.toLowerCase();
      if (SECRET_KEYS.has(lower)) out[key] = "[redacted]";
      else if (PAN_KEYS.has(lower) && (typeof item === "string" || typeof item === "number"))
        out[key] = maskPan(String(item));
      else out[key] = redactForLog(item, depth + 1);
    }
    return out;
  }
  return value;
}

/** The default: a silent logger. Apps inject their own pino logger. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** A child logger that carries the redact paths even when the parent has none. */
export function atmosLogger(parent: Logger | undefined): Logger {
  const base = parent ?? silentLogger();
  return base.child({ component: "atmos" }, { redact: { paths: REDACT_PATHS, censor: "[redacted]" } });
}
