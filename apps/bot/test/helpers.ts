import type {
  CreateLinkRequest,
  PaymentHistoryItem,
  PlanListResponse,
  Subscription,
} from "@obuna/contracts/http";
import { type GatewayClient, GatewayError } from "@obuna/grammy/gateway-client";
import type { Api } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import pino from "pino";

export const BOT_TOKEN = "123456:test-token-for-the-bot";
export const silentLogger = pino({ level: "silent" });

export const botInfo: UserFromGetMe = {
  id: 123456,
  is_bot: true,
  first_name: "Obuna",
  username: "obuna_test_bot",
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
} as UserFromGetMe;

export interface RecordedCall {
  method: string;
  payload: Record<string, unknown>;
  at: number;
}

export type Responder = (
  method: string,
  payload: Record<string, unknown>,
) =>
  | { ok: false; error_code: number; description: string; parameters?: { retry_after?: number } }
  | undefined;

/** An API transformer that records every Bot API call and answers it locally (no network). */
export function recordApiCalls(api: Api, respond?: Responder): RecordedCall[] {
  const calls: RecordedCall[] = [];
  let messageId = 1000;
  api.config.use(async (_prev, method, payload) => {
    const record = { method, payload: (payload ?? {}) as Record<string, unknown>, at: Date.now() };
    calls.push(record);
    const custom = respond?.(method, record.payload);
    if (custom) return custom as never;
    if (method === "sendMessage") {
      const message = {
        message_id: messageId++,
        date: Math.floor(Date.now() / 1000),
        chat: { id: Number(record.payload.chat_id), type: "private", first_name: "U" },
        text: String(record.payload.text),
      };
      return { ok: true, result: message } as never;
    }
    return { ok: true, result: true } as never;
  });
  return calls;
}

let updateId = 1;
let messageId = 1;

export function user(id: number, languageCode = "uz") {
  return { id, is_bot: false, first_name: `User${id}`, username: `user${id}`, language_code: languageCode };
}

export function commandUpdate(text: string, from: ReturnType<typeof user>): Update {
  return {
    update_id: updateId++,
    message: {
      message_id: messageId++,
      date: Math.floor(Date.now() / 1000),
      chat: { id: from.id, type: "private", first_name: from.first_name },
      from,
      text,
      entities: [{ type: "bot_command", offset: 0, length: text.split(" ")[0]!.length }],
    },
  } as Update;
}

export function callbackUpdate(data: string, from: ReturnType<typeof user>, onMessageId = 77): Update {
  return {
    update_id: updateId++,
    callback_query: {
      id: String(updateId),
      from,
      chat_instance: "ci",
      data,
      message: {
        message_id: onMessageId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: from.id, type: "private", first_name: from.first_name },
        from: botInfo,
        text: "earlier message",
      },
    },
  } as Update;
}

export const PLANS: PlanListResponse["plans"] = [
  {
    slug: "monthly",
    names: { uz: "1 Oylik", ru: "1 месяц", en: "1 Month" },
    price: "29 000 so'm",
    price_raw: 2_900_000,
    duration_days: 30,
  },
  {
    slug: "yearly",
    names: { uz: "1 Yillik", ru: "1 год", en: "1 Year" },
    price: "290 000 so'm",
    price_raw: 29_000_000,
    duration_days: 365,
  },
];

export function subscriptionFixture(overrides: Partial<Subscription> = {}): Subscription {
  return {
    id: 501,
    plan: {
      slug: "monthly",
      name: "1 Oylik",
      names: { uz: "1 Oylik", ru: "1 месяц", en: "1 Month" },
      price: "29 000 so'm",
      price_raw: 2_900_000,
    },
    status: "active",
    is_active: true,
    auto_renew: true,
    start_date: "2026-11-01T00:00:00.000Z",
    end_date: "2026-12-01T00:00:00.000Z",
    cancelled_at: null,
    card: {
      id: 9,
      pan_masked: "860049******1234",
      card_type: "uzcard",
      expiry: "2812",
      is_active: true,
      created_at: "2026-11-01T00:00:00.000Z",
      last_used_at: null,
    },
    next_charge_at: "2026-11-30T00:00:00.000Z",
    next_charge: {
      date: "2026-11-30T00:00:00.000Z",
      amount: 2_900_000,
      amount_formatted: "29 000 so'm",
      card_masked: "860049******1234",
    },
    ...overrides,
  };
}

/** An in-memory stand-in for the gateway's HTTP API (the HTTP client itself is tested against a server). */
export class FakeGateway implements GatewayClient {
  plans = PLANS;
  subscriptions = new Map<number, Subscription>();
  payments = new Map<number, PaymentHistoryItem[]>();
  links: CreateLinkRequest[] = [];
  cancelled: number[] = [];
  resumed: number[] = [];
  failure: GatewayError | null = null;
  /** Thrown by createLink only (e.g. 429 RATE_LIMITED). */
  createLinkFailure: GatewayError | null = null;

  private check() {
    if (this.failure) throw this.failure;
  }
  async listPlans() {
    this.check();
    return { plans: this.plans };
  }
  async createLink(request: CreateLinkRequest) {
    this.check();
    if (this.createLinkFailure) throw this.createLinkFailure;
    const plan = this.plans.find((p) => p.slug === request.plan_slug);
    if (!plan) throw new GatewayError("PLAN_NOT_FOUND", 404, "no such plan");
    this.links.push(request);
    const sessionId = `00000000-0000-4000-8000-${String(this.links.length).padStart(12, "0")}`;
    return {
      session_id: sessionId,
      payment_url: `https://miniapp.example/?session_id=${sessionId}`,
      expires_at: "2026-11-28T10:30:00.000Z",
      plan: {
        slug: plan.slug,
        name: plan.names[request.language ?? "uz"],
        names: plan.names,
        price: plan.price,
        price_raw: plan.price_raw,
        duration_days: plan.duration_days,
        period: "30 kun",
      },
    };
  }
  async getEntitlement(telegramId: number) {
    this.check();
    const sub = this.subscriptions.get(telegramId);
    return {
      status: "fresh" as const,
      etag: null,
      entitlement: {
        telegram_id: telegramId,
        active: sub?.is_active ?? false,
        status: sub?.status ?? ("none" as const),
        plan: sub ? { slug: sub.plan.slug, names: sub.plan.names ?? PLANS[0]!.names } : null,
        until: sub?.end_date ?? null,
        rail: sub ? ("card" as const) : null,
        auto_renew: sub?.auto_renew ?? false,
        grace: {
          active: sub?.status === "past_due",
          until: sub?.status === "past_due" ? sub.end_date : null,
        },
      },
    };
  }
  async getSubscription(telegramId: number) {
    this.check();
    return { subscription: this.subscriptions.get(telegramId) ?? null };
  }
  async listPayments(telegramId: number) {
    this.check();
    return { payments: this.payments.get(telegramId) ?? [] };
  }
  async listCards() {
    this.check();
    return { cards: [] };
  }
  async cancelSubscription(id: number) {
    this.check();
    this.cancelled.push(id);
    for (const sub of this.subscriptions.values()) if (sub.id === id) sub.auto_renew = false;
  }
  languages = new Map<number, string>();
  async setLanguage(telegramId: number, request: { language: string }) {
    this.check();
    this.languages.set(telegramId, request.language);
  }
  async resumeSubscription(id: number) {
    this.check();
    this.resumed.push(id);
    for (const sub of this.subscriptions.values()) if (sub.id === id) sub.auto_renew = true;
  }
}

/** Waits until `condition` holds, polling briefly (no fixed sleeps). */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<Exclude<T, null | undefined | false | 0 | "">> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as Exclude<T, null | undefined | false | 0 | "">;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
