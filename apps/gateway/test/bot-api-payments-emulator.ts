import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A Bot API emulator of Telegram Stars payments, written from the Bot API documentation
 * (core.telegram.org/bots/api#payments, #createinvoicelink, #answerprecheckoutquery,
 * #successfulpayment, #refundedpayment, #refundstarpayment, #edituserstarsubscription,
 * #getstartransactions) and the Stars guide (core.telegram.org/bots/payments-stars).
 * telegram-test-api has no payments.
 *
 * Updates go to the bot as a webhook would: `deliver(update)` (the test passes `bot.handleUpdate`).
 * Telegram's side of a purchase is driven by the test: `pay(link, user)` sends the pre_checkout_query
 * and, only when the bot answers `ok: true` within the 10 s Telegram waits, charges and delivers the
 * `successful_payment`; `advance(ms)` moves the emulator's clock and renews due Stars subscriptions
 * (recurring `successful_payment`, every 2592000 s); `userRefund` delivers a `refunded_payment`.
 * Other methods a bot calls on the way (sendMessage, answerCallbackQuery, …) are recorded and answered.
 */

export interface EmulatedUser {
  id: number;
  first_name: string;
  language_code?: string;
}

interface Invoice {
  slug: string;
  title: string;
  description: string;
  payload: string;
  currency: string;
  amount: number;
  subscriptionPeriod: number | null;
}

interface Charge {
  id: string;
  userId: number;
  amount: number;
  date: number;
  payload: string;
  refunded: boolean;
}

interface StarSubscription {
  /** The first charge's id: what editUserStarSubscription names. */
  chargeId: string;
  user: EmulatedUser;
  invoice: Invoice;
  expiresAt: number;
  canceled: boolean;
}

export type PayOutcome =
  | { status: "paid"; chargeId: string; update: Update }
  | { status: "refused"; errorMessage: string }
  | { status: "timeout" };

// biome-ignore lint/suspicious/noExplicitAny: Bot API objects are plain JSON
type Update = Record<string, any> & { update_id: number };

class BotApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
  ) {
    super(description);
  }
}

const bad = (description: string) => new BotApiFailure(400, `Bad Request: ${description}`);

/** Telegram's wait for answerPreCheckoutQuery. */
export const PRE_CHECKOUT_TIMEOUT_MS = 10_000;
export const SUBSCRIPTION_PERIOD_S = 2_592_000;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startPaymentsEmulator(options: {
  botToken: string;
  botId?: number;
  /** A fixed port (a server started before the emulator already points at it); default any free one. */
  port?: number;
}) {
  const invoices = new Map<string, Invoice>();
  const charges: Charge[] = [];
  const subscriptions = new Map<string, StarSubscription>();
  const pendingQueries = new Map<string, (answer: { ok: boolean; error_message?: string }) => void>();
  const calls: Array<{ method: string; params: Record<string, unknown> }> = [];
  /** Faults the test asked for: the next calls of a method answer this error instead. */
  const faults = new Map<string, Array<{ code: number; description: string }>>();
  const delivered: Update[] = [];
  let deliver: (update: Update) => Promise<void> = async () => {};
  let updateId = 1000;
  let messageId = 1;
  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;
  const unixNow = () => Math.floor(now() / 1000);
  const botId = options.botId ?? 4242;

  function requireString(params: Record<string, unknown>, name: string): string {
    const value = params[name];
    if (typeof value !== "string") throw bad(`parameter "${name}" is required`);
    return value;
  }

  function createInvoiceLink(params: Record<string, unknown>): string {
    const title = requireString(params, "title");
    const description = requireString(params, "description");
    const payload = requireString(params, "payload");
    const currency = requireString(params, "currency");
    if (title.length < 1 || title.length > 32) throw bad("title must be 1-32 characters");
    if (description.length < 1 || description.length > 255) throw bad("description must be 1-255 characters");
    const payloadBytes = Buffer.byteLength(payload, "utf8");
    if (payloadBytes < 1 || payloadBytes > 128) throw bad("INVOICE_PAYLOAD_INVALID");
    const prices = params.prices;
    if (!Array.isArray(prices) || prices.length === 0) throw bad("prices must be non-empty");
    for (const p of prices) {
      if (typeof p?.label !== "string" || !Number.isInteger(p?.amount))
        throw bad("can't parse prices JSON object");
    }
    const total = prices.reduce((sum: number, p: { amount: number }) => sum + p.amount, 0);
    const period = params.subscription_period;
    if (currency === "XTR") {
      // "Pass an empty string for payments in Telegram Stars."
      if (params.provider_token !== undefined && params.provider_token !== "")
        throw bad("PAYMENT_PROVIDER_INVALID");
      // "Must contain exactly one item for payments in Telegram Stars."
      if (prices.length !== 1) throw bad("STARS_INVOICE_INVALID: prices must contain exactly one item");
      if (total < 1) throw bad("CURRENCY_TOTAL_AMOUNT_INVALID");
      // max_tip_amount: "Not supported for payments in Telegram Stars."
      if (params.max_tip_amount !== undefined && params.max_tip_amount !== 0)
        throw bad("STARS_INVOICE_INVALID");
    } else if (typeof params.provider_token !== "string" || params.provider_token === "") {
      throw bad("PAYMENT_PROVIDER_INVALID");
    }
    if (period !== undefined) {
      // "The currency must be set to XTR if the parameter is used. Currently, it must always be 2592000."
      if (currency !== "XTR") throw bad("SUBSCRIPTION_PERIOD_INVALID: subscriptions are for XTR only");
      if (period !== SUBSCRIPTION_PERIOD_S) throw bad("SUBSCRIPTION_PERIOD_INVALID");
      // "Subscription price must not exceed 10000 Telegram Stars."
      if (total > 10_000) throw bad("SUBSCRIPTION_PRICE_INVALID");
    }
    const slug = randomBytes(9).toString("base64url");
    invoices.set(slug, {
      slug,
      title,
      description,
      payload,
      currency,
      amount: total,
      subscriptionPeriod: typeof period === "number" ? period : null,
    });
    return `https://t.me/$${slug}`;
  }

  function answerPreCheckoutQuery(params: Record<string, unknown>): true {
    const id = requireString(params, "pre_checkout_query_id");
    if (typeof params.ok !== "boolean") throw bad(`parameter "ok" is required`);
    if (params.ok === false && typeof params.error_message !== "string")
      throw bad("error_message is required when ok is False");
    const resolve = pendingQueries.get(id);
    // An unknown id, or one answered after Telegram stopped waiting.
    if (!resolve) throw bad("query is too old and response timeout expired or query ID is invalid");
    pendingQueries.delete(id);
    resolve({
      ok: params.ok,
      ...(typeof params.error_message === "string" ? { error_message: params.error_message } : {}),
    });
    return true;
  }

  function findCharge(params: Record<string, unknown>) {
    const userId = params.user_id;
    const chargeId = requireString(params, "telegram_payment_charge_id");
    const charge = charges.find((c) => c.id === chargeId);
    if (!charge || charge.userId !== userId) throw bad("CHARGE_ID_INVALID");
    return charge;
  }

  function refundStarPayment(params: Record<string, unknown>): true {
    const charge = findCharge(params);
    if (charge.refunded) throw bad("CHARGE_ALREADY_REFUNDED");
    charge.refunded = true;
    return true;
  }

  function editUserStarSubscription(params: Record<string, unknown>): true {
    const charge = findCharge(params);
    const sub = subscriptions.get(charge.id);
    if (!sub) throw bad("SUBSCRIPTION_ID_INVALID");
    if (typeof params.is_canceled !== "boolean") throw bad(`parameter "is_canceled" is required`);
    sub.canceled = params.is_canceled;
    return true;
  }

  function getStarTransactions(params: Record<string, unknown>) {
    const offset = typeof params.offset === "number" ? params.offset : 0;
    const limit = typeof params.limit === "number" ? params.limit : 100;
    if (limit < 1 || limit > 100) throw bad("limit must be 1-100");
    const rows = charges.flatMap((c) => {
      const incoming = {
        id: c.id,
        amount: c.amount,
        date: c.date,
        source: {
          type: "user",
          user: { id: c.userId, is_bot: false, first_name: "User" },
          invoice_payload: c.payload,
        },
      };
      return c.refunded
        ? [
            incoming,
            { id: c.id, amount: c.amount, date: c.date, receiver: { type: "user", user: { id: c.userId } } },
          ]
        : [incoming];
    });
    return { transactions: rows.slice(offset, offset + limit) };
  }

  function otherMethod(method: string, params: Record<string, unknown>) {
    if (method === "getMe")
      return { id: botId, is_bot: true, first_name: "Obuna", username: "obuna_test_bot" };
    if (method === "sendMessage" || method === "editMessageText")
      return {
        message_id: messageId++,
        date: unixNow(),
        chat: { id: Number(params.chat_id), type: "private" },
        text: params.text,
      };
    return true;
  }

  const server: Server = createServer(async (req, res) => {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url ?? "");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (!match || match[1] !== options.botToken)
      return send(401, { ok: false, error_code: 401, description: "Unauthorized" });
    const method = match[2]!;
    const text = await readBody(req);
    let params: Record<string, unknown> = {};
    try {
      params = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      return send(400, { ok: false, error_code: 400, description: "Bad Request: can't parse JSON" });
    }
    // grammY sends JSON-serialized nested objects as they are; Bot API also takes them as strings.
    if (typeof params.prices === "string") params.prices = JSON.parse(params.prices);
    calls.push({ method, params });
    const fault = faults.get(method)?.shift();
    if (fault) return send(fault.code, { ok: false, error_code: fault.code, description: fault.description });
    try {
      const result =
        method === "createInvoiceLink"
          ? createInvoiceLink(params)
          : method === "answerPreCheckoutQuery"
            ? answerPreCheckoutQuery(params)
            : method === "refundStarPayment"
              ? refundStarPayment(params)
              : method === "editUserStarSubscription"
                ? editUserStarSubscription(params)
                : method === "getStarTransactions"
                  ? getStarTransactions(params)
                  : otherMethod(method, params);
      send(200, { ok: true, result });
    } catch (error) {
      if (error instanceof BotApiFailure)
        return send(error.code, { ok: false, error_code: error.code, description: error.description });
      send(500, { ok: false, error_code: 500, description: (error as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", () => resolve()));
  const apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function invoiceOf(link: string): Invoice {
    const slug = /^https:\/\/t\.me\/\$(.+)$/.exec(link)?.[1];
    const invoice = slug ? invoices.get(slug) : undefined;
    if (!invoice) throw new Error(`no invoice for ${link}`);
    return invoice;
  }

  async function send(update: Omit<Update, "update_id">): Promise<Update> {
    const full = { update_id: ++updateId, ...update } as Update;
    delivered.push(full);
    await deliver(full);
    return full;
  }

  function paymentMessage(user: EmulatedUser, key: string, body: unknown) {
    return {
      message: {
        message_id: messageId++,
        date: unixNow(),
        chat: { id: user.id, type: "private", first_name: user.first_name },
        from: {
          id: user.id,
          is_bot: false,
          first_name: user.first_name,
          language_code: user.language_code ?? "en",
        },
        [key]: body,
      },
    };
  }

  function charge(user: EmulatedUser, invoice: Invoice): Charge {
    const c: Charge = {
      id: `stxT${randomBytes(12).toString("hex")}`,
      userId: user.id,
      amount: invoice.amount,
      date: unixNow(),
      payload: invoice.payload,
      refunded: false,
    };
    charges.push(c);
    return c;
  }

  return {
    apiRoot,
    calls,
    delivered,
    charges,
    subscriptions,
    /** Where updates go (a webhook): usually `(u) => bot.handleUpdate(u)`. */
    onUpdate(fn: (update: Update) => Promise<void>) {
      deliver = fn;
    },
    /** Moves Telegram's clock; Stars subscriptions due by then are charged again (recurring payments). */
    async advance(ms: number) {
      clockOffsetMs += ms;
      const renewed: Update[] = [];
      for (const sub of subscriptions.values()) {
        while (!sub.canceled && sub.expiresAt <= unixNow()) {
          const c = charge(sub.user, sub.invoice);
          sub.expiresAt += SUBSCRIPTION_PERIOD_S;
          renewed.push(
            await send(
              paymentMessage(sub.user, "successful_payment", {
                currency: "XTR",
                total_amount: c.amount,
                invoice_payload: sub.invoice.payload,
                subscription_expiration_date: sub.expiresAt,
                is_recurring: true,
                telegram_payment_charge_id: c.id,
                provider_payment_charge_id: "",
              }),
            ),
          );
        }
      }
      return renewed;
    },
    /**
     * The user pays an invoice link: Telegram sends the pre_checkout_query and waits for the bot's
     * answer (PRE_CHECKOUT_TIMEOUT_MS); only `ok: true` charges the user and sends successful_payment.
     */
    async pay(link: string, user: EmulatedUser, timeoutMs = PRE_CHECKOUT_TIMEOUT_MS): Promise<PayOutcome> {
      const invoice = invoiceOf(link);
      const queryId = randomBytes(8).toString("hex");
      const answer = new Promise<{ ok: boolean; error_message?: string } | null>((resolve) => {
        pendingQueries.set(queryId, resolve);
        setTimeout(() => {
          if (pendingQueries.delete(queryId)) resolve(null);
        }, timeoutMs).unref();
      });
      // The delivery itself is not awaited for the answer: Telegram waits for answerPreCheckoutQuery.
      void send({
        pre_checkout_query: {
          id: queryId,
          from: {
            id: user.id,
            is_bot: false,
            first_name: user.first_name,
            language_code: user.language_code ?? "en",
          },
          currency: invoice.currency,
          total_amount: invoice.amount,
          invoice_payload: invoice.payload,
        },
      }).catch(() => {});
      const answered = await answer;
      if (answered === null) return { status: "timeout" };
      if (!answered.ok) return { status: "refused", errorMessage: answered.error_message ?? "" };
      const c = charge(user, invoice);
      const subscription = invoice.subscriptionPeriod !== null;
      const expiresAt = unixNow() + SUBSCRIPTION_PERIOD_S;
      if (subscription)
        subscriptions.set(c.id, { chargeId: c.id, user, invoice, expiresAt, canceled: false });
      const update = await send(
        paymentMessage(user, "successful_payment", {
          currency: invoice.currency,
          total_amount: invoice.amount,
          invoice_payload: invoice.payload,
          ...(subscription
            ? { subscription_expiration_date: expiresAt, is_recurring: true, is_first_recurring: true }
            : {}),
          telegram_payment_charge_id: c.id,
          provider_payment_charge_id: "",
        }),
      );
      return { status: "paid", chargeId: c.id, update };
    },
    /** Delivers an update again (Telegram redelivers when a webhook did not answer in time). */
    redeliver(update: Update) {
      return deliver(update);
    },
    /** A refund made at Telegram (e.g. by support): refunded_payment to the bot. */
    async userRefund(chargeId: string, user: EmulatedUser) {
      const c = charges.find((x) => x.id === chargeId);
      if (!c) throw new Error(`no charge ${chargeId}`);
      c.refunded = true;
      return send(
        paymentMessage(user, "refunded_payment", {
          currency: "XTR",
          total_amount: c.amount,
          invoice_payload: c.payload,
          telegram_payment_charge_id: c.id,
        }),
      );
    },
    /**
     * The next `times` calls of `method` answer `code` (e.g. 500 Internal Server Error: Telegram's
     * answer is unclear; 400: a definite refusal) without doing anything.
     */
    failNext(method: string, code: number, description: string, times = 1) {
      const queue = faults.get(method) ?? [];
      for (let i = 0; i < times; i++) queue.push({ code, description });
      faults.set(method, queue);
    },
    /** Calls the bot made to a method. */
    callsOf(method: string) {
      return calls.filter((c) => c.method === method).map((c) => c.params);
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type PaymentsEmulator = Awaited<ReturnType<typeof startPaymentsEmulator>>;
