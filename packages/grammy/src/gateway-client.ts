import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { type ErrorCode, ErrorCodeSchema, ErrorEnvelopeSchema } from "@obuna/contracts/errors";
import {
  type CardsResponse,
  CardsResponseSchema,
  type CreateLinkRequest,
  type CreateLinkResponse,
  CreateLinkResponseSchema,
  type Entitlement,
  EntitlementSchema,
  type PaymentHistoryResponse,
  PaymentHistoryResponseSchema,
  type PlanListResponse,
  PlanListResponseSchema,
  type SetLanguageRequest,
  SetLanguageResponseSchema,
  type StarsInvoiceLinkResponse,
  StarsInvoiceLinkResponseSchema,
  type StarsPreCheckoutRequest,
  type StarsPreCheckoutResponse,
  StarsPreCheckoutResponseSchema,
  type StarsRefundedPaymentRequest,
  type StarsRefundedPaymentResponse,
  StarsRefundedPaymentResponseSchema,
  type StarsSuccessfulPaymentRequest,
  type StarsSuccessfulPaymentResponse,
  StarsSuccessfulPaymentResponseSchema,
  type SubscriptionResponse,
  SubscriptionResponseSchema,
} from "@obuna/contracts/http";
import { z } from "zod";

/** A gateway answer we understood as an error: the documented envelope, or a transport/format problem. */
export class GatewayError extends Error {
  constructor(
    /** The gateway's error code, or null when the gateway could not be reached or answered garbage. */
    readonly code: ErrorCode | null,
    readonly status: number | null,
    message: string,
    readonly requestId: string | null = null,
    /** For 429 answers: seconds until the gateway accepts the call again (Retry-After). */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = "GatewayError";
  }

  /** Stale or foreign ids: the thing a button pointed at is gone or no longer in that state. */
  get isStale(): boolean {
    return (
      this.code === "SUBSCRIPTION_NOT_FOUND" ||
      this.code === "NOT_FOUND" ||
      this.code === "INVALID_STATE" ||
      this.code === "USER_NOT_FOUND" ||
      this.code === "PLAN_NOT_FOUND"
    );
  }
}

const requestIds = new AsyncLocalStorage<string>();

/** `bot-<update id>-<8 hex>`: fits the gateway's accepted form (1-64 of A-Z a-z 0-9 . _ -). */
export function newRequestId(updateId?: number): string {
  const random = randomBytes(4).toString("hex");
  return updateId === undefined ? `bot-${random}` : `bot-${updateId}-${random}`;
}

/** The request id of the update being handled, if one was set with {@link withRequestId}. */
export function currentRequestId(): string | undefined {
  return requestIds.getStore();
}

/** Runs `fn` so that every gateway call inside it (however deep, across awaits) sends `requestId`. */
export function withRequestId<T>(requestId: string, fn: () => Promise<T>): Promise<T> {
  return requestIds.run(requestId, fn);
}

/** An entitlement read: a new answer with its ETag, or "unchanged since the ETag you sent" (304). */
export type EntitlementRead =
  | { status: "fresh"; entitlement: Entitlement; etag: string | null }
  | { status: "not_modified" };

/** Everything the bot asks the gateway about money. The bot never touches ATMOS or writes payments itself. */
export interface GatewayClient {
  /** Is the user premium now (`entitlements:read`); with `etag`, an unchanged answer is `not_modified`. */
  getEntitlement(telegramId: number, etag?: string | null): Promise<EntitlementRead>;
  listPlans(): Promise<PlanListResponse>;
  createLink(request: CreateLinkRequest): Promise<CreateLinkResponse>;
  getSubscription(telegramId: number): Promise<SubscriptionResponse>;
  listPayments(telegramId: number): Promise<PaymentHistoryResponse>;
  listCards(telegramId: number): Promise<CardsResponse>;
  cancelSubscription(subscriptionId: number): Promise<void>;
  resumeSubscription(subscriptionId: number): Promise<void>;
  /** The language the user chose in /start, stored on the user. */
  setLanguage(telegramId: number, request: SetLanguageRequest): Promise<void>;
  /**
   * Telegram Stars (`stars:pay`; docs/stars.md). Optional: a client without them offers the card only.
   * A Stars invoice link for a payment session.
   */
  createStarsInvoiceLink?(sessionId: string): Promise<StarsInvoiceLinkResponse>;
  /** May Telegram charge this pre_checkout_query? */
  checkStarsPreCheckout?(request: StarsPreCheckoutRequest): Promise<StarsPreCheckoutResponse>;
  /** A successful_payment, recorded once per telegram_payment_charge_id. */
  recordStarsPayment?(request: StarsSuccessfulPaymentRequest): Promise<StarsSuccessfulPaymentResponse>;
  /** A refunded_payment. */
  recordStarsRefund?(request: StarsRefundedPaymentRequest): Promise<StarsRefundedPaymentResponse>;
}

export interface GatewayClientOptions {
  baseUrl: string;
  /** INTERNAL_API_TOKEN (our bot) or a SERVICE_TOKENS token with the scopes the calls need. */
  internalToken: string;
  /** Per request, ms (default 10 s): a bot handler must not hang on a slow gateway. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const SuccessShape = z.object({ success: z.literal(true), data: z.unknown() });

/** Retry-After in seconds (the gateway sends delta-seconds), or null when absent or unreadable. */
function retryAfterOf(response: Response): number | null {
  const value = response.headers.get("retry-after");
  if (!value || !/^\d{1,7}$/.test(value.trim())) return null;
  return Number(value.trim());
}

export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;

  const baseUrl = options.baseUrl.replace(/\/+$/, "");

  async function send(
    method: "GET" | "POST" | "PUT",
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    try {
      return await doFetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.internalToken}`,
          // One id per update (withRequestId), so the gateway's log lines join the bot's.
          "x-request-id": requestIds.getStore() ?? newRequestId(),
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...extraHeaders,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new GatewayError(null, null, `gateway unreachable: ${(error as Error).message}`);
    }
  }

  async function call<T>(
    method: "GET" | "POST" | "PUT",
    path: string,
    schema: z.ZodType<T> | null,
    body?: unknown,
    given?: Response,
  ) {
    const response = given ?? (await send(method, path, body));
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      throw new GatewayError(null, response.status, `gateway answered ${response.status} without JSON`);
    }
    if (!response.ok) {
      const envelope = ErrorEnvelopeSchema.safeParse(json);
      if (envelope.success) {
        const { code, message, requestId } = envelope.data.error;
        throw new GatewayError(code, response.status, message, requestId, retryAfterOf(response));
      }
      // An unknown code in an otherwise valid envelope still tells us something.
      const loose = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).safeParse(json);
      const code = loose.success ? ErrorCodeSchema.safeParse(loose.data.error.code) : null;
      throw new GatewayError(
        code?.success ? code.data : null,
        response.status,
        loose.success ? loose.data.error.message : `gateway answered ${response.status}`,
      );
    }
    const envelope = SuccessShape.safeParse(json);
    if (!envelope.success)
      throw new GatewayError(null, response.status, "gateway answered an unexpected shape");
    if (schema === null) return undefined as T;
    const data = schema.safeParse(envelope.data.data);
    if (!data.success) throw new GatewayError(null, response.status, `gateway data did not match ${path}`);
    return data.data;
  }

  return {
    async getEntitlement(telegramId, etag) {
      const path = `/api/v1/entitlements/${telegramId}`;
      const response = await send("GET", path, undefined, etag ? { "if-none-match": etag } : {});
      if (response.status === 304) return { status: "not_modified" };
      const entitlement = await call("GET", path, EntitlementSchema, undefined, response);
      return { status: "fresh", entitlement, etag: response.headers.get("etag") };
    },
    listPlans: () => call("GET", "/api/v1/plans", PlanListResponseSchema),
    createLink: (request) => call("POST", "/api/v1/payment/create-link", CreateLinkResponseSchema, request),
    getSubscription: (telegramId) =>
      call("GET", `/api/v1/user/${telegramId}/subscription`, SubscriptionResponseSchema),
    listPayments: (telegramId) =>
      call("GET", `/api/v1/user/${telegramId}/payments`, PaymentHistoryResponseSchema),
    listCards: (telegramId) => call("GET", `/api/v1/user/${telegramId}/cards`, CardsResponseSchema),
    cancelSubscription: (id) => call("POST", `/api/v1/subscription/${id}/cancel`, null, {}),
    resumeSubscription: (id) => call("POST", `/api/v1/subscription/${id}/resume`, null, {}),
    createStarsInvoiceLink: (sessionId) =>
      call("POST", "/api/v1/stars/invoice-link", StarsInvoiceLinkResponseSchema, { session_id: sessionId }),
    checkStarsPreCheckout: (request) =>
      call("POST", "/api/v1/stars/pre-checkout", StarsPreCheckoutResponseSchema, request),
    recordStarsPayment: (request) =>
      call("POST", "/api/v1/stars/successful-payment", StarsSuccessfulPaymentResponseSchema, request),
    recordStarsRefund: (request) =>
      call("POST", "/api/v1/stars/refunded-payment", StarsRefundedPaymentResponseSchema, request),
    setLanguage: async (telegramId, request) => {
      await call("PUT", `/api/v1/user/${telegramId}/language`, SetLanguageResponseSchema, request);
    },
  };
}
