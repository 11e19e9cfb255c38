/**
 * The ATMOS adapter of the PaymentProvider port (@obuna/provider): the apps' composition roots build
 * it from an AtmosClient (`createAtmosProvider({ client, … })`) and hand it down; nothing else in an
 * app speaks ATMOS. It translates words, ids and errors, and adds no behaviour of its own: retries,
 * timeouts and the unknown-outcome rules stay in the client (client.ts), so the sandbox and the real
 * host answer through the same code.
 *
 * - ATMOS ids are integers; the port's ids are text. An id that is not an ATMOS id is refused with
 *   `invalid_params` before anything is sent.
 * - Every AtmosError becomes a ProviderError with the same flags (`retryable`, `outcomeUnknown`) and
 *   the failed transaction as `externalId`.
 * - Paying with a saved card confirms with ATMOS's fixed token OTP; callers never see it.
 */
import {
  type CallbackNotice,
  type CardBindingStart,
  type PaymentProvider,
  ProviderError,
  type ProviderErrorKind,
  type ProviderPayment,
  type ReceiptLine,
  type SavedCard,
} from "@obuna/provider";
import { type AtmosErrorKind, isAtmosError } from "./errors";
import {
  type AtmosBoundCard,
  type AtmosClient,
  type AtmosOfdItem,
  type AtmosTransaction,
  TOKEN_PAYMENT_OTP,
} from "./interface";
import { type CallbackHash, receivedCallbackValues, verifyCallbackSignature } from "./signature";

export interface AtmosProviderConfig {
  client: AtmosClient;
  /** ATMOS_STORE_ID: a callback for another store is not for us. */
  storeId: string;
  /** ATMOS_CALLBACK_API_KEY: the key callbacks are signed with (without it no callback is authentic). */
  callbackApiKey?: string;
  callbackHash?: CallbackHash;
}

/** AtmosErrorKind → ProviderErrorKind; kinds not listed keep their name. */
const KIND: Partial<Record<AtmosErrorKind, ProviderErrorKind>> = {
  wrong_otp: "wrong_code",

  otp_expired: "code_expired",
  otp_attempts_exceeded: "code_attempts_exceeded",
  transaction_not_found: "payment_not_found",
  transaction_closed: "payment_closed",
};

function providerError(error: unknown): unknown {
  if (!isAtmosError(error)) return error;
  return new ProviderError({
    provider: "atmos",
    kind: KIND[error.kind] ?? (error.kind as ProviderErrorKind),
    message: error.message,
    code: error.code,
    httpStatus: error.httpStatus,
    retryable: error.retryable,
    outcomeUnknown: error.outcomeUnknown,
    externalId: error.transactionId === null ? null : String(error.transactionId),
    cause: error,
  });
}

async function translated<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw providerError(error);
  }
}

const ATMOS_ID = /^[1-9]\d{0,15}$/;

/** The port's text id as the ATMOS integer id; refuses anything else before a request is sent. */
function atmosId(id: string, what: string): number {
  const value = ATMOS_ID.test(id) ? Number(id) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new ProviderError({
      provider: "atmos",
      kind: "invalid_params",
      message: `${what} is not an ATMOS id`,
    });
  }
  return value;
}

function toPayment(tx: AtmosTransaction): ProviderPayment {
  return {
    externalId: String(tx.transactionId),
    settlementId: tx.successTransId === null ? null : String(tx.successTransId),
    reference: tx.account,
    amount: tx.amount,
    state: tx.state === "pre_applied" ? "awaiting_confirmation" : tx.state,
    cardRef: tx.cardId,
    statusCode: tx.statusCode,
    statusMessage: tx.statusMessage,
    receiptUrl: tx.ofdUrl,
    confirmedAt: tx.confirmTime === null ? null : new Date(tx.confirmTime),
  };
}

function toSavedCard(card: AtmosBoundCard): SavedCard {
  return {
    cardRef: String(card.cardId),
    panMasked: card.panMasked,
    expiry: card.expiry,
    holder: card.cardHolder,
    phone: card.phone,
    token: card.cardToken,
  };
}

function toOfdItems(receipt: ReceiptLine[] | undefined): AtmosOfdItem[] | undefined {
  return receipt?.map((line) => ({
    ofdCode: line.code,
    name: line.name,
    amount: line.amount,
    quantity: line.quantity,
    ...(line.packageCode === undefined ? {} : { packageCode: line.packageCode }),
    ...(line.vatPercent === undefined ? {} : { vatPercent: line.vatPercent }),
  }));
}

function text(value: unknown): string | null {
  // Postgres text cannot hold U+0000: a NUL in a received value is dropped here, once.
  return typeof value === "string" || typeof value === "number"
    ? String(value).replaceAll("\u0000", "")
    : null;
}

function integer(value: unknown): number | null {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^\d{1,15}$/.test(value)) return Number(value);
  return null;
}

export function createAtmosProvider(config: AtmosProviderConfig): PaymentProvider {
  const { client } = config;
  const hash = config.callbackHash ?? "md5";
  return {
    id: "atmos",

    createPayment: ({ amount, reference, description, lang }) =>
      translated(async () =>
        toPayment(
          await client.createTransaction({
            amount,
            account: reference,
            ...(description === undefined ? {} : { details: description }),
            ...(lang === undefined ? {} : { lang }),
          }),
        ),
      ),

    sendPaymentCode: ({ externalId, cardNumber, expiry }) =>
      translated(async () => {
        const sent = await client.preApplyCard({
          transactionId: atmosId(externalId, "externalId"),
          cardNumber,
          expiry,
        });
        return { phone: sent.phone };
      }),

    resendPaymentCode: (externalId) => translated(() => client.resendOtp(atmosId(externalId, "externalId"))),

    confirmPayment: ({ externalId, code, receipt }) =>
      translated(async () => {
        const ofdItems = toOfdItems(receipt);
        return toPayment(
          await client.apply({
            transactionId: atmosId(externalId, "externalId"),
            otp: code,
            ...(ofdItems === undefined ? {} : { ofdItems }),
          }),
        );
      }),

    prepareSavedCardPayment: ({ externalId, cardToken }) =>
      translated(async () => {
        await client.preApplyToken({ transactionId: atmosId(externalId, "externalId"), cardToken });
      }),

    confirmSavedCardPayment: ({ externalId, receipt }) =>
      translated(async () => {
        const ofdItems = toOfdItems(receipt);
        return toPayment(
          await client.apply({
            transactionId: atmosId(externalId, "externalId"),
            otp: TOKEN_PAYMENT_OTP,
            ...(ofdItems === undefined ? {} : { ofdItems }),
          }),
        );
      }),

    chargeSavedCard: ({ cardToken, amount, reference, receipt }) =>
      translated(async () =>
        toPayment(await client.chargeCardToken(cardToken, amount, reference, toOfdItems(receipt))),
      ),

    startCardBinding: ({ cardNumber, expiry }) =>
      translated(async (): Promise<CardBindingStart> => {
        const started = await client.bindCardInit({ cardNumber, expiry });
        return started.status === "otp_sent"
          ? { status: "code_sent", bindingId: String(started.transactionId), phone: started.phone }
          : { status: "already_bound", card: toSavedCard(started.card) };
      }),

    confirmCardBinding: ({ bindingId, code }) =>
      translated(async () =>
        toSavedCard(
          await client.bindCardConfirm({ transactionId: atmosId(bindingId, "bindingId"), otp: code }),
        ),
      ),

    removeCard: ({ cardRef, cardToken }) =>
      translated(() => client.removeCard({ cardId: atmosId(cardRef, "cardRef"), cardToken })),

    getPayment: (externalId) =>
      translated(async () => toPayment(await client.getTransaction(atmosId(externalId, "externalId")))),

    reversePayment: ({ externalId, settlementId, reason }) =>
      translated(async () => {
        // ATMOS wants the success_trans_id of the confirmed payment (atmos-api.md §3.6).
        const transactionId = settlementId
          ? atmosId(settlementId, "settlementId")
          : atmosId(externalId, "externalId");
        await client.reverse({ transactionId, reason });
      }),

    verifyCallback: ({ body, rawBody }): CallbackNotice => {
      const fields = (
        typeof body === "object" && body !== null && !Array.isArray(body) ? body : {}
      ) as Record<string, unknown>;
      // The sign is checked over the values as received (a JSON number keeps its own text).
      const received = receivedCallbackValues(rawBody);
      const authentic = verifyCallbackSignature(received ?? fields, config.callbackApiKey ?? "", hash);
      const transactionId = integer(fields.transaction_id);
      return {
        authentic,
        forUs: text(fields.store_id) === config.storeId,
        externalId: transactionId === null ? null : String(transactionId),
        reference: text(fields.account) ?? text(fields.invoice),
        amount: integer(fields.amount),
      };
    },
  };
}
