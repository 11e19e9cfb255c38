/**
 * The ATMOS HTTP client: token cache (single flight, refresh margin, drop-and-retry-once on 401),
 * per-call timeout, zod validation of every answer, typed `AtmosError`s, and automatic retries with
 * backoff only for idempotent calls (`/token`, `getTransaction`). Mutating calls are never repeated:
 * when the request may have reached ATMOS they fail with `outcomeUnknown: true`.
 */
import { maskPan } from "@obuna/contracts/card";
import type { z } from "zod";
import { AtmosError, type AtmosErrorKind } from "./errors";
import { createHttpTransport } from "./http-transport";
import { inputSchemas, parseInput } from "./inputs";
import type {
  AtmosBoundCard,
  AtmosCardSummary,
  AtmosClient,
  AtmosLanguage,
  BindCardInitResult,
} from "./interface";
import { TOKEN_PAYMENT_OTP } from "./interface";
import { atmosLogger, type Logger, redactForLog } from "./logging";
import { describeResultCode } from "./result-codes";
import { toAtmosTransaction, toBoundCard, toCardSummary, toWireOfdItem } from "./transform";
import {
  alreadyBoundSchema,
  applyResponseSchema,
  bindConfirmResponseSchema,
  bindInitResponseSchema,
  createResponseSchema,
  type Envelope,
  envelopeSchema,
  getResponseSchema,
  isOkCode,
  listCardsResponseSchema,
  preApplyResponseSchema,
  reverseResponseSchema,
  tokenResponseSchema,
} from "./wire";

export interface AtmosClientConfig {
  /** https://apigw.atmos.uz, or the sandbox URL. No trailing slash needed. */
  baseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  storeId: string | number;
  terminalId?: string | null;
  /** Language of `result.description`. */
  lang?: AtmosLanguage;
  /** Timeout of one HTTP request in ms (default 30 000). */
  timeoutMs?: number;
  /** Refresh the token this long before it expires (default 300 000 = 5 min; at most half the lifetime). */
  tokenRefreshMarginMs?: number;
  /** Retries of idempotent calls (token, get): attempts in total and backoff base/max in ms. */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** pino logger; default silent. Secrets are redacted in every line. */
  logger?: Logger;
  /** For tests: the clock (ms since epoch) and the fetch implementation. */
  now?: () => number;
  fetch?: typeof fetch;
}

interface CallOptions {
  /** Mutating calls are never retried and report outcomeUnknown when the request may have arrived. */
  mutating: boolean;
  transactionId?: number | null;
}

interface CachedToken {
  value: string;
  refreshAt: number;
}

/** Errors from fetch that prove the request never left (nothing can have happened at ATMOS). */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"]);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let i = 0; i < 4 && current; i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function snippet(text: string): string {
  return text.replace(/\s+/g, " ").slice(0, 120);
}

export function createAtmosClient(config: AtmosClientConfig): AtmosClient {
  const baseUrl = config.baseUrl.replace(/\/+$/, "");
  const timeoutMs = config.timeoutMs ?? 30_000;
  const marginMs = config.tokenRefreshMarginMs ?? 300_000;
  const attempts = Math.max(1, config.retry?.attempts ?? 3);
  const baseDelayMs = config.retry?.baseDelayMs ?? 250;
  const maxDelayMs = config.retry?.maxDelayMs ?? 4_000;
  const now = config.now ?? Date.now;
  // Default: keep-alive node:http(s), one write per request (http-transport.ts; docs/benchmarks.md).
  const doFetch = config.fetch ?? createHttpTransport();
  const log = atmosLogger(config.logger);
  const storeId = String(config.storeId);

  let cached: CachedToken | null = null;
  let pending: Promise<string> | null = null;

  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const backoff = (attempt: number) =>
    Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);

  /** One HTTP exchange with timeout; returns status + raw text, or throws AtmosError. */
  async function exchange(
    endpoint: string,
    init: RequestInit,
    options: CallOptions,
  ): Promise<{ status: number; text: string; contentType: string }> {
    const started = now();
    const path = endpoint;
    endpoint = path.split("?")[0]!; // the label in errors and logs: no query string
    let response: Response;
    try {
      response = await doFetch(`${baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      const timedOut = (cause as { name?: string }).name === "TimeoutError";
      const code = errorCode(cause);
      const notSent = !timedOut && code !== undefined && NOT_SENT_CODES.has(code);
      const kind: AtmosErrorKind = timedOut ? "timeout" : "network";
      const outcomeUnknown = options.mutating && !notSent;
      log.warn(
        {
          endpoint,
          kind,
          errorCode: code,
          outcomeUnknown,
          transactionId: options.transactionId ?? undefined,
        },
        "atmos request failed",
      );
      throw new AtmosError({
        kind,
        message: timedOut
          ? `ATMOS ${endpoint} did not answer within ${timeoutMs} ms`
          : `ATMOS ${endpoint} connection failed${code ? ` (${code})` : ""}`,
        retryable: !outcomeUnknown,
        outcomeUnknown,
        transactionId: options.transactionId,
        endpoint,
        cause,
      });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      const timedOut = (cause as { name?: string }).name === "TimeoutError";
      throw new AtmosError({
        kind: timedOut ? "timeout" : "network",
        message: `ATMOS ${endpoint} answer was cut off`,
        httpStatus: response.status,
        retryable: !options.mutating,
        outcomeUnknown: options.mutating,
        transactionId: options.transactionId,
        endpoint,
        cause,
      });
    }
    log.debug({ endpoint, status: response.status, ms: now() - started }, "atmos response");
    return { status: response.status, text, contentType: response.headers.get("content-type") ?? "" };
  }

  function parseJson(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  async function fetchToken(): Promise<string> {
    const endpoint = "/token";
    let lastError: AtmosError | null = null;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const basic = Buffer.from(`${config.consumerKey}:${config.consumerSecret}`).toString("base64");
        const { status, text } = await exchange(
          `${endpoint}?grant_type=client_credentials`,
          {
            method: "POST",
            headers: {
              authorization: `Basic ${basic}`,
              "content-type": "application/x-www-form-urlencoded",
              accept: "application/json",
            },
            body: "grant_type=client_credentials",
          },
          { mutating: false },
        );
        const json = parseJson(text);
        if (status === 400 || status === 401 || status === 403) {
          const description =
            (json as { error_description?: unknown } | undefined)?.error_description ?? snippet(text);
          throw new AtmosError({
            kind: "unauthorized",
            message: `ATMOS rejected the client credentials: ${String(description)}`,
            code: String(status),
            httpStatus: status,
            endpoint,
          });
        }
        if (status >= 500) {
          throw new AtmosError({
            kind: "server_error",
            message: `ATMOS /token answered HTTP ${status}`,
            code: String(status),
            httpStatus: status,
            retryable: true,
            endpoint,
          });
        }
        const parsed = tokenResponseSchema.safeParse(json);
        if (status !== 200 || !parsed.success) {
          throw new AtmosError({
            kind: "bad_response",
            message: `ATMOS /token gave an unreadable answer (HTTP ${status}): ${json === undefined ? snippet(text) : "unexpected JSON"}`,
            httpStatus: status,
            retryable: true,
            endpoint,
          });
        }
        const lifetimeMs = parsed.data.expires_in * 1000;
        const margin = Math.min(marginMs, lifetimeMs / 2);
        cached = { value: parsed.data.access_token, refreshAt: now() + lifetimeMs - margin };
        log.info({ expiresInS: parsed.data.expires_in }, "atmos token obtained");
        return parsed.data.access_token;
      } catch (error) {
        if (!(error instanceof AtmosError) || !error.retryable || attempt === attempts) throw error;
        lastError = error;
        log.warn({ endpoint, attempt, kind: error.kind }, "atmos token request failed, retrying");
        await sleep(backoff(attempt));
      }
    }
    throw lastError ?? new AtmosError({ kind: "internal", message: "unreachable", endpoint });
  }

  /** The cached token, or one refresh shared by every concurrent caller. */
  function getToken(): Promise<string> {
    if (cached && now() < cached.refreshAt) return Promise.resolve(cached.value);
    if (!pending) {
      pending = fetchToken().finally(() => {
        pending = null;
      });
    }
    return pending;
  }

  function dropToken(token: string): void {
    if (cached?.value === token) cached = null;
  }

  /**
   * POSTs a JSON body, handles auth (one retry after a 401), HTTP-level failures and the envelope.
   * Returns the envelope; a non-OK `result.code` is returned too (the caller decides), so that
   * `get` can read ERR-092 with data and bind-init can read ERR-133 with the existing card.
   */
  async function post(
    endpoint: string,
    body: Record<string, unknown>,
    options: CallOptions,
  ): Promise<Envelope> {
    log.debug({ endpoint, body: redactForLog(body) }, "atmos request");
    for (let authAttempt = 1; ; authAttempt++) {
      const token = await getToken();
      const { status, text } = await exchange(
        endpoint,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            accept: "application/json",
          },
          body: JSON.stringify(body),
        },
        options,
      );
      if (status === 401) {
        dropToken(token);
        if (authAttempt === 1) {
          log.info({ endpoint }, "atmos token rejected, refreshing once");
          continue;
        }
        throw new AtmosError({
          kind: "unauthorized",
          message: `ATMOS ${endpoint} rejected a fresh token (HTTP 401)`,
          code: "401",
          httpStatus: 401,
          transactionId: options.transactionId,
          endpoint,
        });
      }
      const json = parseJson(text);
      if (status >= 500) {
        throw new AtmosError({
          kind: "server_error",
          message: `ATMOS ${endpoint} answered HTTP ${status}`,
          code: String(status),
          httpStatus: status,
          retryable: !options.mutating,
          outcomeUnknown: options.mutating,
          transactionId: options.transactionId,
          endpoint,
        });
      }
      if (status < 200 || status >= 300) {
        // 4xx from the gateway (403 IP not allowed, 404 no such resource…): the call was refused before
        // reaching the payment system.
        throw new AtmosError({
          kind: status === 403 ? "unauthorized" : "bad_response",
          message: `ATMOS ${endpoint} answered HTTP ${status}${json === undefined ? `: ${snippet(text)}` : ""}`,
          code: String(status),
          httpStatus: status,
          transactionId: options.transactionId,
          endpoint,
        });
      }
      const envelope = envelopeSchema.safeParse(json);
      if (!envelope.success) {
        throw new AtmosError({
          kind: "bad_response",
          message: `ATMOS ${endpoint} gave an unreadable answer (HTTP ${status}): ${json === undefined ? snippet(text) : "JSON without result"}`,
          httpStatus: status,
          retryable: !options.mutating,
          outcomeUnknown: options.mutating,
          transactionId: options.transactionId,
          endpoint,
        });
      }
      const code = envelope.data.result.code;
      log.info(
        { endpoint, resultCode: code, transactionId: options.transactionId ?? undefined },
        isOkCode(code) ? "atmos call ok" : "atmos business error",
      );
      return envelope.data;
    }
  }

  function businessError(envelope: Envelope, endpoint: string, options: CallOptions): AtmosError {
    const code = envelope.result.code;
    const info = describeResultCode(code);
    // An internal error at ATMOS, or a code we do not know, on a mutating call: we cannot know
    // whether it took effect (an unrecognised code is never a final decline).
    const unknown = (info.kind === "internal" || info.kind === "unrecognised_result") && options.mutating;
    return new AtmosError({
      kind: info.kind,
      message: `ATMOS ${endpoint}: ${code} ${envelope.result.description ?? info.description}`,
      code,
      httpStatus: 200,
      retryable: info.retryable && !unknown,
      outcomeUnknown: unknown,
      transactionId: options.transactionId,
      endpoint,
    });
  }

  function payload<S extends z.ZodType>(
    schema: S,
    envelope: Envelope,
    endpoint: string,
    options: CallOptions,
  ): z.infer<S> {
    const parsed = schema.safeParse(envelope);
    if (parsed.success) return parsed.data;
    throw new AtmosError({
      kind: "bad_response",
      message: `ATMOS ${endpoint} answered OK with an unexpected shape: ${parsed.error.issues
        .map((issue) => `${issue.path.join(".")} ${issue.message}`)
        .slice(0, 3)
        .join("; ")}`,
      httpStatus: 200,
      retryable: false,
      // OK was said but we cannot read what happened: ask getTransaction before doing anything else.
      outcomeUnknown: options.mutating,
      transactionId: options.transactionId,
      endpoint,
    });
  }

  /** Business call: OK → schema-parsed payload, anything else → AtmosError. */
  async function call<S extends z.ZodType>(
    endpoint: string,
    body: Record<string, unknown>,
    schema: S,
    options: CallOptions,
  ): Promise<z.infer<S>> {
    const envelope = await post(endpoint, body, options);
    if (!isOkCode(envelope.result.code)) throw businessError(envelope, endpoint, options);
    return payload(schema, envelope, endpoint, options);
  }

  const lang = config.lang;
  const withLang = (body: Record<string, unknown>) => (lang ? { ...body, lang } : body);

  const client: AtmosClient = {
    async createTransaction(raw) {
      const endpoint = "/merchant/pay/create";
      const input = parseInput(inputSchemas.create, raw, endpoint);
      const body: Record<string, unknown> = {
        amount: input.amount,
        account: input.account,
        store_id: storeId,
        ...(config.terminalId ? { terminal_id: config.terminalId } : {}),
        ...(input.details ? { details: input.details } : {}),
        ...((input.lang ?? lang) ? { lang: input.lang ?? lang } : {}),
      };
      const data = await call(endpoint, body, createResponseSchema, { mutating: true });
      const st = data.store_transaction ?? {
        trans_id: data.transaction_id,
        success_trans_id: null,
        account: input.account,
        amount: input.amount,
        confirmed: false,
        prepay_time: null,
        confirm_time: null,
        card_id: null,
        status_code: null,
        status_message: null,
        terminal_id: null,
      };
      const transaction = toAtmosTransaction(st, "OK", data.transaction_id);
      return { ...transaction, transactionId: data.transaction_id, state: "created" };
    },

    async preApplyCard(raw) {
      const input = parseInput(inputSchemas.preApplyCard, raw, "/merchant/pay/pre-apply");
      const { cardNumber: pan, expiry } = input;
      const options = { mutating: true, transactionId: input.transactionId };
      log.debug({ transactionId: input.transactionId, card: maskPan(pan) }, "atmos pre-apply with card");
      const data = await call(
        "/merchant/pay/pre-apply",
        withLang({ transaction_id: input.transactionId, store_id: storeId, card_number: pan, expiry }),
        preApplyResponseSchema,
        options,
      );
      return { transactionId: data.transaction_id ?? input.transactionId, phone: data.phone };
    },

    async preApplyToken(raw) {
      const input = parseInput(inputSchemas.preApplyToken, raw, "/merchant/pay/pre-apply");
      const data = await call(
        "/merchant/pay/pre-apply",
        withLang({ transaction_id: input.transactionId, store_id: storeId, card_token: input.cardToken }),
        preApplyResponseSchema,
        { mutating: true, transactionId: input.transactionId },
      );
      return { transactionId: data.transaction_id ?? input.transactionId };
    },

    async apply(raw) {
      const fiscal = (raw as { ofdItems?: unknown } | null)?.ofdItems !== undefined;
      // The fiscal apply (atmos-api.md §3.3): the same confirm plus the receipt lines.
      const endpoint = fiscal ? "/merchant/pay/confirm-with-ofd-list" : "/merchant/pay/apply";
      const input = parseInput(inputSchemas.apply, raw, endpoint);
      const options = { mutating: true, transactionId: input.transactionId };
      const data = await call(
        endpoint,
        withLang({
          transaction_id: input.transactionId,
          otp: input.otp,
          store_id: storeId,
          ...(input.ofdItems ? { ofd_items: input.ofdItems.map(toWireOfdItem) } : {}),
        }),
        applyResponseSchema,
        options,
      );
      const transaction = toAtmosTransaction(data.store_transaction, "OK", input.transactionId, data.ofd_url);
      if (transaction.state !== "confirmed") {
        throw new AtmosError({
          kind: "bad_response",
          message: `ATMOS ${endpoint} answered OK but the transaction is not confirmed`,
          httpStatus: 200,
          outcomeUnknown: true,
          transactionId: input.transactionId,
          endpoint,
        });
      }
      return transaction;
    },

    async getTransaction(rawId) {
      const endpoint = "/merchant/pay/get";
      const transactionId = parseInput(inputSchemas.transactionId, rawId, endpoint);
      const options = { mutating: false, transactionId };
      let lastError: AtmosError | null = null;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const envelope = await post(
            endpoint,
            withLang({ store_id: storeId, transaction_id: transactionId }),
            options,
          );
          const code = envelope.result.code;
          // ERR-092 on a closed transaction still carries store_transaction: decide by its data.
          const hasData = (envelope as { store_transaction?: unknown }).store_transaction != null;
          if (!isOkCode(code) && !(code === "STPIMS-ERR-092" && hasData))
            throw businessError(envelope, endpoint, options);
          const data = payload(getResponseSchema, envelope, endpoint, options);
          return toAtmosTransaction(data.store_transaction, code, transactionId, data.ofd_url);
        } catch (error) {
          if (!(error instanceof AtmosError) || !error.retryable || attempt === attempts) throw error;
          lastError = error;
          log.warn({ endpoint, attempt, kind: error.kind, transactionId }, "atmos get failed, retrying");
          await sleep(backoff(attempt));
        }
      }
      throw lastError ?? new AtmosError({ kind: "internal", message: "unreachable", endpoint });
    },

    async reverse(raw) {
      const input = parseInput(inputSchemas.reverse, raw, "/merchant/pay/reverse");
      const data = await call(
        "/merchant/pay/reverse",
        withLang({ transaction_id: input.transactionId, reason: input.reason, store_id: storeId }),
        reverseResponseSchema,
        { mutating: true, transactionId: input.transactionId },
      );
      return { transactionId: data.transaction_id ?? input.transactionId };
    },

    async resendOtp(rawId) {
      const transactionId = parseInput(inputSchemas.transactionId, rawId, "/merchant/pay/otp-resend");
      await call(
        "/merchant/pay/otp-resend",
        withLang({ transaction_id: transactionId, store_id: storeId }),
        envelopeSchema,
        { mutating: true, transactionId },
      );
    },

    async bindCardInit(raw): Promise<BindCardInitResult> {
      const endpoint = "/partner/bind-card/init";
      const { cardNumber: pan, expiry } = parseInput(inputSchemas.bindCardInit, raw, endpoint);
      const options = { mutating: true };
      log.debug({ card: maskPan(pan) }, "atmos bind-card init");
      const envelope = await post(endpoint, withLang({ card_number: pan, expiry }), options);
      const code = envelope.result.code;
      if (code === "STPIMS-ERR-133") {
        const existing = alreadyBoundSchema.safeParse(envelope);
        if (existing.success) return { status: "already_bound", card: toBoundCard(existing.data.data) };
        throw businessError(envelope, endpoint, options);
      }
      if (!isOkCode(code)) throw businessError(envelope, endpoint, options);
      const data = payload(bindInitResponseSchema, envelope, endpoint, options);
      return { status: "otp_sent", transactionId: data.transaction_id, phone: data.phone };
    },

    async bindCardConfirm(raw): Promise<AtmosBoundCard> {
      const input = parseInput(inputSchemas.bindCardConfirm, raw, "/partner/bind-card/confirm");
      const data = await call(
        "/partner/bind-card/confirm",
        withLang({ transaction_id: input.transactionId, otp: input.otp }),
        bindConfirmResponseSchema,
        { mutating: true, transactionId: input.transactionId },
      );
      return toBoundCard(data.data);
    },

    async listCards(raw): Promise<AtmosCardSummary[]> {
      const input = parseInput(inputSchemas.listCards, raw ?? {}, "/partner/list-cards");
      const cards = await call(
        "/partner/list-cards",
        withLang({ page: input.page ?? 1, page_size: input.pageSize ?? 50 }),
        listCardsResponseSchema,
        { mutating: false },
      );
      return cards.map(toCardSummary);
    },

    async removeCard(raw) {
      const input = parseInput(inputSchemas.removeCard, raw, "/partner/remove-card");
      await call(
        "/partner/remove-card",
        withLang({ id: input.cardId, token: input.cardToken }),
        envelopeSchema,
        {
          mutating: true,
        },
      );
    },

    async chargeCardToken(cardToken, amount, account, ofdItems) {
      const created = await client.createTransaction({ amount, account });
      const transactionId = created.transactionId;
      try {
        await client.preApplyToken({ transactionId, cardToken });
        return await client.apply({
          transactionId,
          otp: TOKEN_PAYMENT_OTP,
          ...(ofdItems ? { ofdItems } : {}),
        });
      } catch (error) {
        if (error instanceof AtmosError && error.transactionId === null) {
          throw new AtmosError({
            kind: error.kind,
            message: error.message,
            code: error.code,
            httpStatus: error.httpStatus,
            retryable: error.retryable,
            outcomeUnknown: error.outcomeUnknown,
            transactionId,
            endpoint: error.endpoint ?? undefined,
            cause: error,
          });
        }
        throw error;
      }
    },
  };
  return client;
}
