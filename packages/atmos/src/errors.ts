/**
 * One typed error for everything that can go wrong talking to ATMOS.
 * - `retryable`: the same request may be sent again safely (nothing happened, or the call is idempotent).
 * - `outcomeUnknown`: a mutating request may or may not have taken effect (timeout, lost response,
 *   5xx after sending). Never repeat it blindly: ask `getTransaction` first.
 */
export const ATMOS_ERROR_KINDS = [
  "insufficient_funds",
  "card_expired",
  "card_blocked",
  "card_not_found",
  "card_already_bound",
  "sms_not_connected",
  "wrong_otp",
  "otp_expired",
  "otp_attempts_exceeded",
  "transaction_not_found",
  "transaction_closed",
  "invalid_params",
  "declined",
  /**
   * A result code we do not know. On a mutating call the outcome is unknown (ask getTransaction);
   * it is never read as a decline.
   */
  "unrecognised_result",
  "unauthorized",
  "timeout",
  "network",
  "server_error",
  "bad_response",
  "internal",
] as const;
export type AtmosErrorKind = (typeof ATMOS_ERROR_KINDS)[number];

export interface AtmosErrorInit {
  kind: AtmosErrorKind;
  message: string;
  /** The ATMOS result code (`STPIMS-ERR-112`) or the HTTP status as text, when there is one. */
  code?: string | null;
  httpStatus?: number | null;
  retryable?: boolean;
  outcomeUnknown?: boolean;
  /** The ATMOS transaction the failed call was about, when known (needed to reconcile). */
  transactionId?: number | null;
  /** The ATMOS endpoint path. */
  endpoint?: string;
  cause?: unknown;
}

export class AtmosError extends Error {
  readonly kind: AtmosErrorKind;
  readonly code: string | null;
  readonly httpStatus: number | null;
  readonly retryable: boolean;
  readonly outcomeUnknown: boolean;
  readonly transactionId: number | null;
  readonly endpoint: string | null;

  constructor(init: AtmosErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "AtmosError";
    this.kind = init.kind;
    this.code = init.code ?? null;
    this.httpStatus = init.httpStatus ?? null;
    this.retryable = init.retryable ?? false;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.transactionId = init.transactionId ?? null;
    this.endpoint = init.endpoint ?? null;
  }

  /** A decline that cannot succeed on retry: the card itself must change. */
  get isHardDecline(): boolean {
    return this.kind === "card_expired" || this.kind === "card_blocked" || this.kind === "card_not_found";
  }
}

export function isAtmosError(error: unknown): error is AtmosError {
  return error instanceof AtmosError;
}
