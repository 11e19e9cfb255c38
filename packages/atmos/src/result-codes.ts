/**
 * STPIMS-ERR-NNN → AtmosError kind. The official table could not be read (atmos-api.md §2.2, §13):
 * codes marked "sandbox" are our own choice for outcomes whose real code is unknown, so the sandbox
 * and the client agree. Unknown codes become `unrecognised_result`: never a decline; on a mutating
 * call the client reports the outcome as unknown (the caller asks getTransaction, then reconciles).
 * Keep this table and docs/atmos.md in step.
 */
import type { AtmosErrorKind } from "./errors";

export interface ResultCodeInfo {
  kind: AtmosErrorKind;
  /** Same request may be repeated safely (nothing happened at ATMOS). */
  retryable: boolean;
  description: string;
}

export const RESULT_CODES = {
  "STPIMS-ERR-001": { kind: "internal", retryable: true, description: "internal error at ATMOS" },
  "STPIMS-ERR-004": {
    kind: "card_not_found",
    retryable: false,
    description: "card not found / already removed",
  },
  "STPIMS-ERR-009": { kind: "invalid_params", retryable: false, description: "wrong parameters" },
  "STPIMS-ERR-014": { kind: "card_expired", retryable: false, description: "card expired (sandbox)" },
  "STPIMS-ERR-015": { kind: "card_blocked", retryable: false, description: "card blocked (sandbox)" },
  "STPIMS-ERR-016": {
    kind: "sms_not_connected",
    retryable: false,
    description: "SMS notifications not connected to the card (sandbox)",
  },
  "STPIMS-ERR-019": { kind: "card_not_found", retryable: false, description: "card not found" },
  "STPIMS-ERR-044": { kind: "wrong_otp", retryable: false, description: "wrong code" },
  "STPIMS-ERR-057": {
    kind: "insufficient_funds",
    retryable: false,
    description: "insufficient funds (mock)",
  },
  "STPIMS-ERR-061": { kind: "transaction_not_found", retryable: false, description: "transaction not found" },
  "STPIMS-ERR-067": { kind: "card_not_found", retryable: false, description: "wrong card" },
  "STPIMS-ERR-070": {
    kind: "declined",
    retryable: false,
    description: "merchant callback refused or unreachable (sandbox)",
  },
  "STPIMS-ERR-080": { kind: "otp_expired", retryable: false, description: "OTP expired (sandbox)" },
  "STPIMS-ERR-081": {
    kind: "otp_attempts_exceeded",
    retryable: false,
    description: "too many wrong OTPs, transaction closed (sandbox)",
  },
  "STPIMS-ERR-092": { kind: "transaction_closed", retryable: false, description: "transaction closed" },
  "STPIMS-ERR-098": { kind: "wrong_otp", retryable: false, description: "wrong SMS code, may retry" },
  "STPIMS-ERR-112": { kind: "insufficient_funds", retryable: false, description: "insufficient funds" },
  "STPIMS-ERR-133": { kind: "card_already_bound", retryable: false, description: "card already bound" },
} as const satisfies Record<string, ResultCodeInfo>;

export type KnownResultCode = keyof typeof RESULT_CODES;

export function describeResultCode(code: string): ResultCodeInfo {
  const known = (RESULT_CODES as Record<string, ResultCodeInfo>)[code];
  return known ?? { kind: "unrecognised_result", retryable: false, description: "unknown ATMOS result code" };
}
