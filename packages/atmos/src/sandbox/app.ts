/**
 * The ATMOS sandbox: a Hono app with in-memory state that answers like the documented API
 * (atmos-api.md): real paths and envelopes, WSO2-style 401 faults, business errors as HTTP 200 +
 * STPIMS-ERR-NNN, the transaction state machine of §6, the merchant callback before confirming,
 * fault knobs and read-only control endpoints. Never logs a full PAN, OTP or token.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import { maskPan } from "@obuna/contracts/card";
import { type Context, Hono } from "hono";
import type { Logger } from "pino";
import pino from "pino";
import { signCallback } from "../signature";
import {
  findSandboxCard,
  SANDBOX_OTP,
  type SandboxCard,
  type SandboxCardOutcome,
  sandboxExpiryYymm,
} from "./cards";
import {
  DEFAULT_SANDBOX_CONFIG,
  type SandboxConfig,
  type SandboxConfigPatch,
  sandboxConfigPatchSchema,
} from "./config";

export type SandboxTransactionState = "created" | "pre_applied" | "confirmed" | "reversed" | "closed";

/** A receipt line as the sandbox received it in `ofd_items` (confirm-with-ofd-list). */
export interface SandboxOfdItem {
  ofdCode: string;
  name: string;
  /** tiyin */
  amount: number;
  quantity: number;
  packageCode: string | null;
  vatPercent: number | null;
}

/** One row of the read-only ledger (`ledger()` and `GET /_sandbox/ledger`). Times are ISO UTC. */
export interface SandboxLedgerEntry {
  transactionId: number;
  storeId: string;
  state: SandboxTransactionState;
  /** tiyin */
  amount: number;
  account: string;
  /** 986009******4364, once a card is attached */
  cardMask: string | null;
  /** true when paid with a bound card token */
  viaToken: boolean;
  successTransId: number | null;
  reversed: boolean;
  /** Why a transaction ended unpaid (`otp_attempts_exceeded`, `insufficient_funds`, `callback_refused`…). */
  closedReason: string | null;
  callbackStatus: "not_sent" | "accepted" | "refused" | "unreachable";
  /** The receipt lines of a fiscal apply (confirm-with-ofd-list); null for a plain apply. */
  ofdItems: SandboxOfdItem[] | null;
  /** The receipt link issued at confirmation; null when none was issued (the `receiptlessNext` fault). */
  ofdUrl: string | null;
  createdAt: string;
  preAppliedAt: string | null;
  confirmedAt: string | null;
  reversedAt: string | null;
  closedAt: string | null;
}

interface Transaction {
  id: number;
  storeId: string;
  account: string;
  amount: number;
  details: string | null;
  state: SandboxTransactionState;
  card: SandboxCard | null;
  viaToken: boolean;
  cardId: number | null;
  otpExpiresAt: number | null;
  otpAttempts: number;
  applying: boolean;
  successTransId: number | null;
  closedReason: string | null;
  callbackStatus: SandboxLedgerEntry["callbackStatus"];
  ofdItems: SandboxOfdItem[] | null;
  ofdUrl: string | null;
  createdAt: number;
  preAppliedAt: number | null;
  confirmedAt: number | null;
  reversedAt: number | null;
  closedAt: number | null;
}

interface BindTransaction {
  id: number;
  card: SandboxCard;
  otpExpiresAt: number;
  otpAttempts: number;
  state: "otp_sent" | "confirmed" | "closed";
}

interface BoundCard {
  cardId: number;
  card: SandboxCard;
  token: string;
}

export interface SandboxRequestRecord {
  method: string;
  path: string;
  at: string;
}

export interface SandboxStateOptions {
  now?: () => number;
  random?: () => number;
  logger?: Logger;
}

/** Result codes the sandbox answers with (see docs/atmos.md for the table). */
const CODES = {
  internal: ["STPIMS-ERR-001", "Внутренняя ошибка"],
  cardNotFoundRemove: ["STPIMS-ERR-004", "Карта не найдена"],
  invalidParams: ["STPIMS-ERR-009", "Неправильные параметры"],
  card_expired: ["STPIMS-ERR-014", "Срок действия карты истёк"],
  card_blocked: ["STPIMS-ERR-015", "Карта заблокирована"],
  sms_not_connected: ["STPIMS-ERR-016", "К карте не подключено SMS-информирование"],
  cardNotFound: ["STPIMS-ERR-019", "Karta topilmadi"],
  transactionNotFound: ["STPIMS-ERR-061", "Транзакция не найдена"],
  wrongCard: ["STPIMS-ERR-067", "Неверная карта"],
  callbackRefused: ["STPIMS-ERR-070", "Мерчант отклонил платёж"],
  otpExpired: ["STPIMS-ERR-080", "Срок действия кода истёк"],
  otpAttemptsExceeded: ["STPIMS-ERR-081", "Превышено количество попыток ввода кода"],
  closed: ["STPIMS-ERR-092", "Транзакция закрыта"],
  wrongOtp: ["STPIMS-ERR-098", "Неверный код"],
  insufficient_funds: ["STPIMS-ERR-112", "Недостаточно средств на балансе карты для проведения платежа"],
  alreadyBound: ["STPIMS-ERR-133", "У партнера имеется указанная карта"],
} as const satisfies Record<string, readonly [string, string]>;

type CodeName = keyof typeof CODES;

const HTML_502 =
  "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
const HTML_403 =
  "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body><h1>Access denied</h1><p>Your IP address is not allowed.</p></body></html>";

/** In-memory sandbox state plus the Hono app that serves it. */
export function createSandbox(initial: SandboxConfigPatch = {}, options: SandboxStateOptions = {}) {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const log = options.logger ?? pino({ level: "silent" });
  let config: SandboxConfig = { ...DEFAULT_SANDBOX_CONFIG, ...sandboxConfigPatchSchema.parse(initial) };

  const tokens = new Map<string, number>(); // access token → expiresAt
  const transactions = new Map<number, Transaction>();
  const bySuccessId = new Map<number, Transaction>();
  const bindTransactions = new Map<number, BindTransaction>();
  const boundCards = new Map<string, BoundCard>(); // PAN → card
  const requests: SandboxRequestRecord[] = [];
  const hangers = new Set<() => void>();
  let nextTransactionId = 200_001;
  let nextSuccessId = 700_001;
  let nextBindId = 400_001;
  let nextCardId = 1_579_001;
  let closed = false;

  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

  function configure(patch: SandboxConfigPatch): void {
    config = { ...config, ...sandboxConfigPatchSchema.parse(patch) };
  }

  function outcomeOf(card: SandboxCard): SandboxCardOutcome {
    return config.cardOutcomes[card.pan] ?? card.outcome;
  }

  function ledger(): SandboxLedgerEntry[] {
    return [...transactions.values()].map((t) => ({
      transactionId: t.id,
      storeId: t.storeId,
      state: t.state,
      amount: t.amount,
      account: t.account,
      cardMask: t.card ? maskPan(t.card.pan) : null,
      viaToken: t.viaToken,
      successTransId: t.successTransId,
      reversed: t.state === "reversed",
      closedReason: t.closedReason,
      callbackStatus: t.callbackStatus,
      ofdItems: t.ofdItems,
      ofdUrl: t.ofdUrl,
      createdAt: iso(t.createdAt)!,
      preAppliedAt: iso(t.preAppliedAt),
      confirmedAt: iso(t.confirmedAt),
      reversedAt: iso(t.reversedAt),
      closedAt: iso(t.closedAt),
    }));
  }

  /** Wait until the client gives up (socket closed) or the sandbox closes. */
  function hang(c: Context<{ Bindings: HttpBindings }>): Promise<void> {
    return new Promise<void>((resolve) => {
      if (closed) return resolve();
      const done = () => {
        hangers.delete(done);
        resolve();
      };
      hangers.add(done);
      // the socket, not the request: a request whose body was read has already emitted "close"
      const socket = c.env?.incoming?.socket;
      if (socket?.destroyed) return done();
      socket?.once("close", done);
    });
  }

  /**
   * ATMOS reverses a confirmed payment on its own side (bank reversal, operator, dispute): the
   * transaction reads `reversed` from then on. Ledger control, not an API call.
   */
  function reverseTransaction(transactionId: number): "reversed" | "not_found" | "not_confirmed" {
    const t = transactions.get(transactionId);
    if (!t) return "not_found";
    if (t.state !== "confirmed") return "not_confirmed";
    t.state = "reversed";
    t.reversedAt = now();
    log.info({ transactionId: t.id }, "sandbox: reversed by ATMOS");
    return "reversed";
  }

  function closeSandbox(): void {
    closed = true;
    for (const done of [...hangers]) done();
  }

  const app = new Hono<{ Bindings: HttpBindings }>();

  const ok = (c: Context, payload: Record<string, unknown> = {}) =>
    c.json({ result: { code: "OK", description: "Нет ошибок" }, ...payload });
  const fail = (c: Context, name: CodeName, payload: Record<string, unknown> = {}) =>
    c.json({ result: { code: CODES[name][0], description: CODES[name][1] }, ...payload });

  const wso2Fault = (c: Context, code: number, message: string, description: string) =>
    c.json({ fault: { code, message, description } }, 401);

  // ---------------------------------------------------------------- control endpoints
  app.get("/_sandbox/ledger", (c) => c.json({ transactions: ledger() }));
  app.get("/_sandbox/health", (c) => c.json({ ok: true }));
  app.post("/_sandbox/reverse", async (c) => {
    const b = await c.req.json().catch(() => null);
    const id = int((b as Record<string, unknown> | null)?.transaction_id);
    const result = id === null ? "not_found" : reverseTransaction(id);
    return c.json({ result }, result === "reversed" ? 200 : 409);
  });
  app.post("/_sandbox/config", async (c) => {
    const body = await c.req.json().catch(() => undefined);
    const parsed = sandboxConfigPatchSchema.safeParse(body);
    if (!parsed.success)
      return c.json({ error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) }, 400);
    configure(parsed.data);
    const { consumerSecret: _secret, callbackApiKey: _key, ...visible } = config;
    return c.json({ config: visible });
  });

  // ---------------------------------------------------------------- faults, latency, request log
  app.use("*", async (c, next) => {
    const path = c.req.path;
    if (path.startsWith("/_sandbox/")) return next();
    requests.push({ method: c.req.method, path, at: new Date(now()).toISOString() });
    if (config.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, config.latencyMs));
    const faultable = config.faultPath === null || path.startsWith(config.faultPath);
    if (faultable) {
      if (config.timeoutNext > 0) {
        config.timeoutNext--;
        log.info({ path }, "sandbox fault: no answer");
        await hang(c);
        return c.body(null, 504);
      }
      if (config.failNext > 0) {
        config.failNext--;
        return c.html(HTML_502, 502);
      }
      if (config.htmlNext > 0) {
        config.htmlNext--;
        return c.html(HTML_403, 403);
      }
      if (config.unrecognisedCodeNext > 0) {
        config.unrecognisedCodeNext--;
        const unrecognised = () =>
          c.json({ result: { code: config.unrecognisedCode, description: "Неизвестная ошибка" } });
        log.info({ path, mode: config.unrecognisedCodeMode }, "sandbox fault: unrecognised result code");
        if (config.unrecognisedCodeMode === "before") return unrecognised();
        await next();
        if (c.res.status === 200) c.res = unrecognised();
        return;
      }
      if (config.timeoutRate > 0 && random() < config.timeoutRate) {
        await hang(c);
        return c.body(null, 504);
      }
      if (config.errorRate > 0 && random() < config.errorRate) return c.html(HTML_502, 502);
    }
    return next();
  });

  // ---------------------------------------------------------------- auth
  app.post("/token", async (c) => {
    const header = c.req.header("authorization") ?? "";
    const basic = /^Basic\s+(.+)$/i.exec(header);
    const decoded = basic ? Buffer.from(basic[1]!, "base64").toString("utf8") : "";
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const grantType = (form as Record<string, unknown>).grant_type ?? c.req.query("grant_type");
    if (decoded !== `${config.consumerKey}:${config.consumerSecret}`) {
      return c.json({ error: "invalid_client", error_description: "Client Authentication failed." }, 401);
    }
    if (grantType !== "client_credentials") {
      return c.json(
        { error: "unsupported_grant_type", error_description: "Unsupported grant_type value" },
        400,
      );
    }
    const at = now();
    if (config.reuseActiveToken) {
      for (const [token, expiresAt] of tokens) {
        if (expiresAt > at + 1000) {
          return c.json({
            access_token: token,
            scope: "am_application_scope default",
            token_type: "Bearer",
            expires_in: Math.floor((expiresAt - at) / 1000),
          });
        }
      }
    }
    const token = randomUUID();
    tokens.set(token, at + config.tokenTtlSeconds * 1000);
    return c.json({
      access_token: token,
      scope: "am_application_scope default",
      token_type: "Bearer",
      expires_in: config.tokenTtlSeconds,
    });
  });

  app.post("/revoke", async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = (form as Record<string, unknown>).token;
    if (typeof token === "string") tokens.delete(token);
    return c.body(null, 200);
  });

  app.use("*", async (c, next) => {
    const header = c.req.header("authorization");
    const bearer = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
    if (!bearer) {
      return wso2Fault(
        c,
        900902,
        "Missing Credentials",
        "Required OAuth credentials not provided. Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN'",
      );
    }
    const expiresAt = tokens.get(bearer[1]!);
    if (expiresAt === undefined || expiresAt <= now()) {
      return wso2Fault(
        c,
        900901,
        "Invalid Credentials",
        `Access failure for API: ${c.req.path}, version: v1. Make sure you have given the correct access token`,
      );
    }
    return next();
  });

  // ---------------------------------------------------------------- helpers
  async function body(c: Context): Promise<Record<string, unknown> | null> {
    const value = await c.req.json().catch(() => null);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  }
  const int = (value: unknown): number | null => {
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    return typeof n === "number" && Number.isSafeInteger(n) ? n : null;
  };
  const str = (value: unknown): string | null =>
    typeof value === "string" ? value : typeof value === "number" ? String(value) : null;

  function storeTransaction(t: Transaction) {
    const paid = t.state === "confirmed" || t.state === "reversed";
    const bound = t.card ? boundCards.get(t.card.pan) : undefined;
    return {
      trans_id: t.id,
      success_trans_id: t.successTransId,
      account: t.account,
      amount: t.amount,
      total: t.amount,
      terminal_id: null,
      label: null,
      confirmed: paid,
      prepay_time: t.preAppliedAt,
      confirm_time: t.confirmedAt,
      card_id: t.card ? (t.viaToken && bound ? String(bound.cardId) : maskPan(t.card.pan)) : null,
      status_code: paid ? "0" : t.state === "closed" ? "-1" : null,
      status_message:
        t.state === "reversed" ? "Canceled" : paid ? "Success" : t.state === "closed" ? "Closed" : null,
      details: t.details,
    };
  }

  function close(t: Transaction, reason: string): void {
    t.state = "closed";
    t.closedReason = reason;
    t.closedAt = now();
  }

  const finished = (t: Transaction) =>
    t.state === "confirmed" || t.state === "reversed" || t.state === "closed";

  function checkStore(b: Record<string, unknown>): boolean {
    return str(b.store_id) === config.storeId;
  }

  function lookupCard(panValue: unknown, expiryValue: unknown): { card: SandboxCard } | { error: CodeName } {
    const pan = str(panValue);
    const expiry = str(expiryValue);
    if (!pan || !/^\d{16}$/.test(pan) || !expiry || !/^\d{4}$/.test(expiry))
      return { error: "invalidParams" };
    const card = findSandboxCard(pan);
    if (!card) return { error: "cardNotFound" };
    if (sandboxExpiryYymm(card) !== expiry) return { error: "wrongCard" };
    const outcome = outcomeOf(card);
    if (outcome === "card_expired" || outcome === "card_blocked" || outcome === "sms_not_connected")
      return { error: outcome };
    return { card };
  }

  // ---------------------------------------------------------------- merchant payments
  app.post("/merchant/pay/create", async (c) => {
    const b = await body(c);
    if (!b || !checkStore(b)) return fail(c, "invalidParams");
    const amount = int(b.amount);
    const account = str(b.account);
    if (amount === null || amount <= 0 || !account) return fail(c, "invalidParams");
    const t: Transaction = {
      id: nextTransactionId++,
      storeId: config.storeId,
      account,
      amount,
      details: str(b.details),
      state: "created",
      card: null,
      viaToken: false,
      cardId: null,
      otpExpiresAt: null,
      otpAttempts: 0,
      applying: false,
      successTransId: null,
      closedReason: null,
      callbackStatus: "not_sent",
      ofdItems: null,
      ofdUrl: null,
      createdAt: now(),
      preAppliedAt: null,
      confirmedAt: null,
      reversedAt: null,
      closedAt: null,
    };
    transactions.set(t.id, t);
    log.info({ transactionId: t.id, amount, account }, "sandbox: transaction created");
    return ok(c, { transaction_id: t.id, store_transaction: storeTransaction(t) });
  });

  const preApply = async (c: Context) => {
    const b = await body(c);
    if (!b || !checkStore(b)) return fail(c, "invalidParams");
    const t = transactions.get(int(b.transaction_id) ?? -1);
    if (!t) return fail(c, "transactionNotFound");
    if (finished(t)) return fail(c, "closed");
    const hasToken = b.card_token !== undefined;
    const hasCard = b.card_number !== undefined || b.expiry !== undefined;
    if (hasToken === hasCard) return fail(c, "invalidParams");
    if (hasToken) {
      const token = str(b.card_token);
      const bound = [...boundCards.values()].find((card) => card.token === token);
      if (!bound) return fail(c, "cardNotFound");
      const outcome = outcomeOf(bound.card);
      if (outcome === "card_expired" || outcome === "card_blocked") return fail(c, outcome);
      t.card = bound.card;
      t.viaToken = true;
      t.cardId = bound.cardId;
      t.otpExpiresAt = null;
    } else {
      const found = lookupCard(b.card_number, b.expiry);
      if ("error" in found) return fail(c, found.error);
      t.card = found.card;
      t.viaToken = false;
      t.cardId = null;
      t.otpExpiresAt = now() + config.otpTtlSeconds * 1000;
    }
    t.state = "pre_applied";
    t.preAppliedAt = now();
    log.info(
      { transactionId: t.id, card: maskPan(t.card.pan), viaToken: t.viaToken },
      "sandbox: pre-applied",
    );
    return ok(c, { transaction_id: t.id, ...(t.viaToken ? {} : { phone: t.card.phone }) });
  };
  app.post("/merchant/pay/pre-apply", preApply);
  app.post("/merchant/pay/pre-confirm", preApply);

  async function runCallback(t: Transaction): Promise<"accepted" | "refused" | "unreachable"> {
    const url = config.callbackUrl;
    if (!url) return "accepted";
    const fields = {
      store_id: t.storeId,
      transaction_id: String(t.id),
      transaction_time: String(now()),
      amount: String(t.amount),
    };
    const reference =
      config.callbackField === "invoice"
        ? { invoice: t.account }
        : config.callbackField === "account"
          ? { account: t.account }
          : { invoice: t.account, account: t.account };
    const sign = signCallback({ ...fields, ...reference }, config.callbackApiKey, config.callbackHash);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...fields, ...reference, sign }),
        signal: AbortSignal.timeout(config.callbackTimeoutMs),
      });
      const answer = (await response.json().catch(() => null)) as { status?: unknown } | null;
      const accepted = response.ok && (answer?.status === 1 || answer?.status === "1");
      log.info({ transactionId: t.id, httpStatus: response.status, accepted }, "sandbox: callback answered");
      return accepted ? "accepted" : "refused";
    } catch (error) {
      log.warn({ transactionId: t.id, error: (error as Error).message }, "sandbox: callback unreachable");
      return "unreachable";
    }
  }

  /**
   * The receipt lines of confirm-with-ofd-list, or null when they are not acceptable: 1..100 lines,
   * each `{ofd_code (17 digits; ofdCode accepted too), name, amount > 0, quantity > 0,
   * package_code? (digits), vat_percent? (0..100)}`, the amounts summing to the transaction amount.
   */
  function parseOfdItems(value: unknown, total: number): SandboxOfdItem[] | null {
    if (!Array.isArray(value) || value.length === 0 || value.length > 100) return null;
    const items: SandboxOfdItem[] = [];
    for (const raw of value) {
      if (typeof raw !== "object" || raw === null) return null;
      const line = raw as Record<string, unknown>;
      const ofdCode = str(line.ofd_code ?? line.ofdCode);
      const name = typeof line.name === "string" ? line.name.trim() : "";
      const amount = int(line.amount);
      const quantity = int(line.quantity ?? 1);
      const packageCode = line.package_code === undefined ? null : str(line.package_code);
      const vatPercent = line.vat_percent === undefined ? null : int(line.vat_percent);
      if (!ofdCode || !/^\d{17}$/.test(ofdCode) || !name) return null;
      if (amount === null || amount <= 0 || quantity === null || quantity <= 0) return null;
      if (line.package_code !== undefined && (packageCode === null || !/^\d{1,20}$/.test(packageCode)))
        return null;
      if (line.vat_percent !== undefined && (vatPercent === null || vatPercent < 0 || vatPercent > 100))
        return null;
      items.push({ ofdCode, name, amount, quantity, packageCode, vatPercent });
    }
    return items.reduce((sum, item) => sum + item.amount, 0) === total ? items : null;
  }

  const apply = async (c: Context<{ Bindings: HttpBindings }>) => {
    const b = await body(c);
    if (!b || !checkStore(b)) return fail(c, "invalidParams");
    const t = transactions.get(int(b.transaction_id) ?? -1);
    if (!t) return fail(c, "transactionNotFound");
    if (finished(t)) return fail(c, "closed");
    if (t.state !== "pre_applied" || !t.card) return fail(c, "invalidParams");
    const withItems = c.req.path.endsWith("/confirm-with-ofd-list");
    const ofdItems = withItems ? parseOfdItems(b.ofd_items, t.amount) : null;
    if (withItems && !ofdItems) {
      log.info({ transactionId: t.id }, "sandbox: ofd_items refused");
      return fail(c, "invalidParams");
    }
    if (t.applying) return fail(c, "internal");
    const otp = str(b.otp);
    if (!t.viaToken && t.otpExpiresAt !== null && now() > t.otpExpiresAt) return fail(c, "otpExpired");
    if (otp !== SANDBOX_OTP) {
      t.otpAttempts++;
      if (t.otpAttempts >= config.maxOtpAttempts) {
        close(t, "otp_attempts_exceeded");
        return fail(c, "otpAttemptsExceeded");
      }
      return fail(c, "wrongOtp");
    }
    const outcome = outcomeOf(t.card);
    if (outcome !== "success") {
      close(t, outcome);
      return fail(c, outcome);
    }
    t.applying = true;
    try {
      const callback = await runCallback(t);
      if (config.callbackUrl) t.callbackStatus = callback;
      if (callback !== "accepted") {
        close(t, callback === "refused" ? "callback_refused" : "callback_unreachable");
        return fail(c, "callbackRefused");
      }
      t.state = "confirmed";
      t.successTransId = nextSuccessId++;
      t.confirmedAt = now();
      bySuccessId.set(t.successTransId, t);
      t.ofdItems = ofdItems;
      if (config.receiptlessNext > 0) {
        config.receiptlessNext--;
        log.info({ transactionId: t.id }, "sandbox fault: charged without a receipt");
      } else {
        t.ofdUrl = `https://ofd.soliq.uz/check?t=sandbox&r=${t.successTransId}`;
      }
    } finally {
      t.applying = false;
    }
    log.info(
      { transactionId: t.id, successTransId: t.successTransId, card: maskPan(t.card.pan) },
      "sandbox: confirmed",
    );
    const lose = config.loseNextApply > 0 || (config.lostApplyRate > 0 && random() < config.lostApplyRate);
    if (lose) {
      if (config.loseNextApply > 0) config.loseNextApply--;
      log.info({ transactionId: t.id, mode: config.lostApplyMode }, "sandbox fault: apply answer lost");
      if (config.lostApplyMode === "hang" || !c.env?.incoming) {
        await hang(c);
        return c.body(null, 504);
      }
      c.env.incoming.socket.destroy();
      return c.body(null, 504);
    }
    return ok(c, {
      store_transaction: storeTransaction(t),
      ofd_url: t.ofdUrl,
      ofd_url_commission: null,
    });
  };
  app.post("/merchant/pay/apply", apply);
  app.post("/merchant/pay/confirm", apply);
  app.post("/merchant/pay/apply-ofd", apply);
  app.post("/merchant/pay/confirm-with-ofd-list", apply);

  app.post("/merchant/pay/get", async (c) => {
    const b = await body(c);
    if (!b || !checkStore(b)) return fail(c, "invalidParams");
    const t = transactions.get(int(b.transaction_id) ?? -1);
    if (!t) return fail(c, "transactionNotFound");
    const payload = {
      store_transaction: storeTransaction(t),
      // Whether the real get carries the receipt link is [U]: `ofdUrlOnGet` switches it off.
      ...(config.ofdUrlOnGet && t.ofdUrl ? { ofd_url: t.ofdUrl } : {}),
    };
    if (t.state === "closed" || t.state === "reversed") return fail(c, "closed", payload);
    if (t.state === "confirmed" && config.confirmedGetCode !== "OK") return fail(c, "closed", payload);
    return ok(c, payload);
  });

  app.post("/merchant/pay/reverse", async (c) => {
    const b = await body(c);
    if (!b || (b.store_id !== undefined && !checkStore(b))) return fail(c, "invalidParams");
    // ATMOS wants the success_trans_id (§3.6); the sandbox also accepts our transaction id.
    const id = int(b.transaction_id ?? b.success_trans_id) ?? -1;
    const t = bySuccessId.get(id) ?? transactions.get(id);
    if (!t) return fail(c, "transactionNotFound");
    if (t.state === "reversed" || t.state === "closed") return fail(c, "closed");
    if (t.state !== "confirmed") return fail(c, "invalidParams");
    t.state = "reversed";
    t.reversedAt = now();
    log.info({ transactionId: t.id }, "sandbox: reversed");
    return ok(c, { transaction_id: t.id });
  });

  const resend = async (c: Context) => {
    const b = await body(c);
    if (!b || !checkStore(b)) return fail(c, "invalidParams");
    const t = transactions.get(int(b.transaction_id) ?? -1);
    if (!t) return fail(c, "transactionNotFound");
    if (finished(t)) return fail(c, "closed");
    if (t.state !== "pre_applied" || t.viaToken) return fail(c, "invalidParams");
    t.otpExpiresAt = now() + config.otpTtlSeconds * 1000;
    return ok(c);
  };
  app.post("/merchant/pay/otp-resend", resend);
  app.post("/merchant/pay/retry-otp", resend);

  // ---------------------------------------------------------------- card binding
  function boundCardData(bound: BoundCard) {
    return {
      card_id: bound.cardId,
      pan: maskPan(bound.card.pan),
      expiry: sandboxExpiryYymm(bound.card),
      card_holder: bound.card.holder,
      balance: 1_000_000_000,
      phone: bound.card.phone,
      card_token: bound.token,
    };
  }

  const bindInit = async (c: Context) => {
    const b = await body(c);
    if (!b) return fail(c, "invalidParams");
    const found = lookupCard(b.card_number, b.expiry);
    if ("error" in found) return fail(c, found.error);
    const existing = boundCards.get(found.card.pan);
    if (existing) return fail(c, "alreadyBound", { data: boundCardData(existing) });
    const bind: BindTransaction = {
      id: nextBindId++,
      card: found.card,
      otpExpiresAt: now() + config.otpTtlSeconds * 1000,
      otpAttempts: 0,
      state: "otp_sent",
    };
    bindTransactions.set(bind.id, bind);
    log.info({ bindTransactionId: bind.id, card: maskPan(found.card.pan) }, "sandbox: bind OTP sent");
    return ok(c, { transaction_id: bind.id, phone: found.card.phone });
  };
  app.post("/partner/bind-card/init", bindInit);
  app.post("/partner/bind-card/create", bindInit);

  const bindConfirm = async (c: Context) => {
    const b = await body(c);
    if (!b) return fail(c, "invalidParams");
    const bind = bindTransactions.get(int(b.transaction_id) ?? -1);
    if (!bind) return fail(c, "transactionNotFound");
    if (bind.state !== "otp_sent") return fail(c, "closed");
    if (now() > bind.otpExpiresAt) return fail(c, "otpExpired");
    if (str(b.otp) !== SANDBOX_OTP) {
      bind.otpAttempts++;
      if (bind.otpAttempts >= config.maxOtpAttempts) {
        bind.state = "closed";
        return fail(c, "otpAttemptsExceeded");
      }
      return fail(c, "wrongOtp");
    }
    bind.state = "confirmed";
    const existing = boundCards.get(bind.card.pan);
    if (existing) return fail(c, "alreadyBound", { data: boundCardData(existing) });
    const bound: BoundCard = {
      cardId: nextCardId++,
      card: bind.card,
      token: randomBytes(16).toString("hex").toUpperCase(),
    };
    boundCards.set(bind.card.pan, bound);
    log.info({ cardId: bound.cardId, card: maskPan(bind.card.pan) }, "sandbox: card bound");
    return ok(c, { transaction_id: bind.id, data: boundCardData(bound) });
  };
  app.post("/partner/bind-card/confirm", bindConfirm);
  app.post("/partner/bind-card/apply", bindConfirm);

  const dial = async (c: Context) => {
    const b = await body(c);
    const bind = bindTransactions.get(int(b?.transaction_id) ?? -1);
    if (!bind) return fail(c, "transactionNotFound");
    if (bind.state !== "otp_sent") return fail(c, "closed");
    bind.otpExpiresAt = now() + config.otpTtlSeconds * 1000;
    return ok(c);
  };
  app.put("/partner/bind-card/dial", dial);
  app.post("/partner/bind-card/dial", dial);

  app.post("/partner/list-cards", async (c) => {
    const b = (await body(c)) ?? {};
    const page = Math.max(1, int(b.page) ?? 1);
    const size = Math.max(1, int(b.page_size) ?? 50);
    const cards = [...boundCards.values()].sort((x, y) => x.cardId - y.cardId);
    const slice = cards.slice((page - 1) * size, page * size);
    return ok(c, {
      card_list: slice.map((bound) => ({
        card_id: bound.cardId,
        card_token: bound.token,
        pan: maskPan(bound.card.pan),
        expiry: sandboxExpiryYymm(bound.card),
      })),
    });
  });

  app.post("/partner/remove-card", async (c) => {
    const b = await body(c);
    if (!b) return fail(c, "invalidParams");
    const id = int(b.id);
    const token = str(b.token);
    const bound = [...boundCards.values()].find((card) => card.cardId === id && card.token === token);
    if (!bound) return fail(c, "cardNotFoundRemove");
    boundCards.delete(bound.card.pan);
    log.info({ cardId: bound.cardId }, "sandbox: card removed");
    return ok(c, { data: { card_id: bound.cardId, pan: null } });
  });

  app.notFound((c) =>
    c.json(
      {
        fault: {
          code: 900906,
          message: "No matching resource found for given API Request",
          description: `${c.req.method} ${c.req.path}`,
        },
      },
      404,
    ),
  );
  app.onError((error, c) => {
    log.error({ error: error.message, path: c.req.path }, "sandbox: handler failed");
    return fail(c, "internal");
  });

  return {
    app,
    configure,
    ledger,
    /** Method + path + time of every API call (no bodies): e.g. count `/token` requests. */
    requests: (): SandboxRequestRecord[] => [...requests],
    /** ATMOS reverses a confirmed transaction on its own (also `POST /_sandbox/reverse`). */
    reverseTransaction,
    /** Makes every issued access token invalid (the next call gets a WSO2 401). */
    expireTokens: (): void => tokens.clear(),
    /** The current settings (secrets included: for in-process tests only). */
    config: (): SandboxConfig => ({ ...config }),
    close: closeSandbox,
  };
}

export type Sandbox = ReturnType<typeof createSandbox>;
