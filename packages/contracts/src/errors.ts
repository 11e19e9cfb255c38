import { z } from "zod";

/**
 * The closed set of gateway error codes. Every code maps to exactly one HTTP status.
 * Adding a code means adding it here, to `ERROR_STATUS` and to docs/errors.md.
 */
export const ERROR_CODES = [
  "VALIDATION_ERROR",
  "INVALID_JSON",
  "PAYLOAD_TOO_LARGE",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "PLAN_NOT_FOUND",
  "SESSION_NOT_FOUND",
  "SESSION_EXPIRED",
  "SESSION_ALREADY_COMPLETED",
  "SESSION_FAILED",
  "INVALID_STATE",
  "TRANSACTION_MISMATCH",
  "AMOUNT_MISMATCH",
  "INVALID_CARD",
  "UNSUPPORTED_CARD",
  "CARD_EXPIRED",
  "CARD_BLOCKED",
  "CARD_DECLINED",
  "INSUFFICIENT_FUNDS",
  "SMS_NOT_CONNECTED",
  "WRONG_OTP",
  "OTP_EXPIRED",
  "OTP_ATTEMPTS_EXCEEDED",
  "OTP_RESEND_TOO_SOON",
  "CARD_NOT_FOUND",
  "SUBSCRIPTION_NOT_FOUND",
  "PAYMENT_NOT_FOUND",
  "USER_NOT_FOUND",
  "IDEMPOTENCY_KEY_REUSED",
  "IDEMPOTENCY_IN_PROGRESS",
  "RATE_LIMITED",
  "PAYMENT_PROVIDER_UNAVAILABLE",
  "SERVICE_UNAVAILABLE",
  "INTERNAL_ERROR",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
export const ErrorCodeSchema = z.enum(ERROR_CODES).meta({ id: "ErrorCode" });

export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  INVALID_JSON: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PLAN_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  SESSION_EXPIRED: 410,
  SESSION_ALREADY_COMPLETED: 409,
  SESSION_FAILED: 409,
  INVALID_STATE: 409,
  TRANSACTION_MISMATCH: 400,
  AMOUNT_MISMATCH: 400,
  INVALID_CARD: 400,
  UNSUPPORTED_CARD: 400,
  CARD_EXPIRED: 400,
  CARD_BLOCKED: 402,
  CARD_DECLINED: 402,
  INSUFFICIENT_FUNDS: 402,
  SMS_NOT_CONNECTED: 402,
  WRONG_OTP: 400,
  OTP_EXPIRED: 400,
  OTP_ATTEMPTS_EXCEEDED: 429,
  OTP_RESEND_TOO_SOON: 429,
  CARD_NOT_FOUND: 404,
  SUBSCRIPTION_NOT_FOUND: 404,
  PAYMENT_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_IN_PROGRESS: 409,
  RATE_LIMITED: 429,
  PAYMENT_PROVIDER_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const satisfies Record<ErrorCode, number>;

export const ErrorEnvelopeSchema = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string(),
      requestId: z.string(),
      /** The request field a validation error is about, e.g. `card_number`. */
      field: z.string().optional(),
      /** Extra machine-readable facts, e.g. `{ attempts_left: 3 }`. */
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: "ErrorEnvelope" });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

export function successEnvelope<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), data });
}
