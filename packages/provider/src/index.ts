/**
 * The payment-provider port: what the money flows need from a card rail, in provider-neutral words.
 * ATMOS (UzCard/Humo) is the first adapter (`createAtmosProvider` in `@obuna/atmos/provider`); apps
 * build an adapter only in their composition root and otherwise depend on this package alone (the
 * money core re-exports it). It is its own package so an adapter can implement it without depending
 * on the money core.
 *
 * Amounts are integer tiyin. Ids from the provider are text (`externalId`, `cardRef`), whatever the
 * provider's own type. Every method throws `ProviderError` on failure.
 */

/** Matches the `payment_provider` database enum. */
export type ProviderId = "atmos";

/**
 * Our reading of a provider payment:
 * created → awaiting_confirmation → confirmed → reversed; `closed` = finished without money moving.
 */
export type ProviderPaymentState = "created" | "awaiting_confirmation" | "confirmed" | "reversed" | "closed";

export interface ProviderPayment {
  /** The provider's id of this payment (ATMOS: transaction_id). */
  externalId: string;
  /** The provider's id of the settled charge, set once confirmed (ATMOS: success_trans_id). */
  settlementId: string | null;
  /** Our reference sent at creation (ATMOS: account). */
  reference: string | null;
  /** tiyin */
  amount: number | null;
  state: ProviderPaymentState;
  /** The provider's id (or masked number) of the card charged, when given. */
  cardRef: string | null;
  statusCode: string | null;
  statusMessage: string | null;
  /** Fiscal receipt link, when the provider issued one (ATMOS: ofd_url). */
  receiptUrl: string | null;
  confirmedAt: Date | null;
}

/** One fiscal receipt line sent with a charge; lines sum to the charged amount. */
export interface ReceiptLine {
  /** IKPU/MXIK code (17 digits). */
  code: string;
  name: string;
  /** tiyin, line total */
  amount: number;
  quantity: number;
  packageCode?: string;
  vatPercent?: number;
}

/** A card saved at the provider for charges without the cardholder (renewals). */
export interface SavedCard {
  /** The provider's card id, as text. */
  cardRef: string;
  /** 986009******1840 — the only card number form we ever hold. */
  panMasked: string;
  /** YYMM */
  expiry: string;
  holder: string | null;
  phone: string | null;
  /** Secret: stored encrypted, never logged. */
  token: string;
}

export type CardBindingStart =
  | { status: "code_sent"; bindingId: string; phone: string | null }
  /** The provider already holds this card for us and answers with it. */
  | { status: "already_bound"; card: SavedCard };

/**
 * A provider's server-to-server notice about a payment (ATMOS: the callback before the debit), as
 * the adapter read it. The fields are parsed whatever the signature says (for the record and the
 * log); only an `authentic` notice may be acted on.
 */
export interface CallbackNotice {
  /** The signature matched (checked in constant time over the values as received). */
  authentic: boolean;
  /** The notice names our merchant account (ATMOS: store_id). */
  forUs: boolean;
  externalId: string | null;
  reference: string | null;
  /** tiyin */
  amount: number | null;
}

export interface PaymentProvider {
  readonly id: ProviderId;

  // --- pay by card with an SMS code
  createPayment(input: {
    amount: number;
    reference: string;
    description?: string;
    lang?: "uz" | "ru" | "en";
  }): Promise<ProviderPayment>;
  /** Sends the cardholder an SMS code for this payment. */
  sendPaymentCode(input: {
    externalId: string;
    cardNumber: string;
    expiry: string;
  }): Promise<{ phone: string | null }>;
  resendPaymentCode(externalId: string): Promise<void>;
  /** Confirms with the cardholder's code; a lost answer is an unknown outcome, resolved with getPayment. */
  confirmPayment(input: {
    externalId: string;
    code: string;
    receipt?: ReceiptLine[];
  }): Promise<ProviderPayment>;

  // --- pay with a saved card (no SMS)
  prepareSavedCardPayment(input: { externalId: string; cardToken: string }): Promise<void>;
  confirmSavedCardPayment(input: { externalId: string; receipt?: ReceiptLine[] }): Promise<ProviderPayment>;
  /** create → prepare → confirm in one; on failure the error carries `externalId` once it exists. */
  chargeSavedCard(input: {
    cardToken: string;
    amount: number;
    reference: string;
    receipt?: ReceiptLine[];
  }): Promise<ProviderPayment>;

  // --- bind a card
  startCardBinding(input: { cardNumber: string; expiry: string }): Promise<CardBindingStart>;
  confirmCardBinding(input: { bindingId: string; code: string }): Promise<SavedCard>;
  removeCard(input: { cardRef: string; cardToken: string }): Promise<void>;

  // --- after the fact
  getPayment(externalId: string): Promise<ProviderPayment>;
  /**
   * Refunds a confirmed payment. Give its `settlementId` when known (ATMOS reverses by the settled
   * charge's id, its success_trans_id); without it the adapter reverses by `externalId`.
   */
  reversePayment(input: { externalId: string; settlementId?: string | null; reason: string }): Promise<void>;
  /**
   * Reads and checks a callback. `body` is the parsed JSON (null when it did not parse), `rawBody`
   * the text as received: signatures are checked over the received values, never re-formatted ones.
   */
  verifyCallback(input: { body: unknown; rawBody: string }): CallbackNotice;
}

export const PROVIDER_ERROR_KINDS = [
  "insufficient_funds",
  "card_expired",
  "card_blocked",
  "card_not_found",
  "card_already_bound",
  "sms_not_connected",
  "wrong_code",
  "code_expired",
  "code_attempts_exceeded",
  "payment_not_found",
  "payment_closed",
  "invalid_params",
  "declined",
  /** A result we do not know: on a mutating call the outcome is unknown, never a decline. */
  "unrecognised_result",
  "unauthorized",
  "timeout",
  "network",
  "server_error",
  "bad_response",
  "internal",
] as const;
export type ProviderErrorKind = (typeof PROVIDER_ERROR_KINDS)[number];

/**
 * - `retryable`: the same request may be sent again safely.
 * - `outcomeUnknown`: a mutating request may or may not have taken effect: ask getPayment, never repeat.
 */
export class ProviderError extends Error {
  readonly provider: ProviderId;
  readonly kind: ProviderErrorKind;
  readonly code: string | null;
  readonly httpStatus: number | null;
  readonly retryable: boolean;
  readonly outcomeUnknown: boolean;
  readonly externalId: string | null;

  constructor(init: {
    provider: ProviderId;
    kind: ProviderErrorKind;
    message: string;
    code?: string | null;
    httpStatus?: number | null;
    retryable?: boolean;
    outcomeUnknown?: boolean;
    externalId?: string | null;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ProviderError";
    this.provider = init.provider;
    this.kind = init.kind;
    this.code = init.code ?? null;
    this.httpStatus = init.httpStatus ?? null;
    this.retryable = init.retryable ?? false;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.externalId = init.externalId ?? null;
  }

  /** A decline that cannot succeed on retry: the card itself must change. */
  get isHardDecline(): boolean {
    return this.kind === "card_expired" || this.kind === "card_blocked" || this.kind === "card_not_found";
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}
