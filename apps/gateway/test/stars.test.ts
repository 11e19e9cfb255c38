import { createAtmosClient } from "@obuna/atmos";
import { expireIfDue } from "@obuna/billing";
import {
  auditLog,
  notificationOutbox,
  paymentSessions,
  payments,
  premiumEvents,
  subscriptions,
  users,
} from "@obuna/db/schema";
import { type ObunaFlavor, obuna } from "@obuna/grammy";
import { createGatewayClient } from "@obuna/grammy/gateway-client";
import { and, eq } from "drizzle-orm";
import { Bot, type Context } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "../src/admin/reconcile";
import { createApp } from "../src/app";
import { reconcileStars } from "../src/services/stars";
import { BotApiError, createTelegramBotApi } from "../src/telegram-bot-api";
import {
  type EmulatedUser,
  type PaymentsEmulator,
  PRE_CHECKOUT_TIMEOUT_MS,
  SUBSCRIPTION_PERIOD_S,
  startPaymentsEmulator,
} from "./bot-api-payments-emulator";
import { BOT_TOKEN, INTERNAL_TOKEN, STORE_ID } from "./constants";
import {
  apply,
  call,
  createSession,
  type Harness,
  internalAuth,
  type Json,
  prepareSession,
  randomTelegramId,
  sandboxRail,
  startHarness,
  testGatewayConfig,
} from "./harness";

/**
 * Telegram Stars end to end: the real gateway (test database, moved clock) and our grammY plugin,
 * against a Bot API payments emulator written from the Bot API docs (bot-api-payments-emulator.ts).
 */

const DAY_MS = 86_400_000;
const botInfo = {
  id: 4242,
  is_bot: true,
  first_name: "Obuna",
  username: "obuna_test_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
} as UserFromGetMe;

let h: Harness;
let tg: PaymentsEmulator;
let stars: ReturnType<typeof createTelegramBotApi>;

function newBot() {
  const bot = new Bot<Context & ObunaFlavor>(BOT_TOKEN, { client: { apiRoot: tg.apiRoot }, botInfo });
  bot.use(
    obuna<Context>({ gateway: createGatewayClient({ baseUrl: h.baseUrl, internalToken: INTERNAL_TOKEN }) }),
  );
  return bot;
}

beforeAll(async () => {
  tg = await startPaymentsEmulator({ botToken: BOT_TOKEN });
  stars = createTelegramBotApi({ botToken: BOT_TOKEN, apiRoot: tg.apiRoot });
  h = await startHarness({}, { stars });
  const bot = newBot();
  tg.onUpdate((update) => bot.handleUpdate(update as never));
});
afterAll(async () => {
  await h?.close();
  await tg?.close();
});

function newUser(): EmulatedUser {
  return { id: randomTelegramId(), first_name: "Stars", language_code: "en" };
}

/** /premium → the plan button, as the user: the bot's answer carries the Stars invoice link. */
async function starsLinkFromBot(user: EmulatedUser, slug = "monthly") {
  const before = tg.callsOf("sendMessage").length;
  await tg.redeliver({
    update_id: Math.floor(Math.random() * 1e9),
    callback_query: {
      id: String(Math.random()),
      from: { id: user.id, is_bot: false, first_name: user.first_name, language_code: "en" },
      chat_instance: "1",
      data: `plan:${slug}`,
      message: {
        message_id: 1,
        date: Math.floor(Date.now() / 1000),
        chat: { id: user.id, type: "private", first_name: user.first_name },
        text: "plans",
      },
    },
  });
  const sent = tg.callsOf("sendMessage").slice(before);
  expect(sent.length).toBe(1);
  const rows = (sent[0]!.reply_markup as Json).inline_keyboard as Json[][];
  const buttons = rows.flat();
  const card = buttons.find((b) => b.web_app);
  const star = buttons.find((b) => typeof b.url === "string" && b.url.startsWith("https://t.me/$"));
  return { card, star, link: star?.url as string | undefined };
}

async function userRow(telegramId: number) {
  const [row] = await h.db.db.select().from(users).where(eq(users.telegramId, telegramId));
  return row!;
}
async function paymentsOf(telegramId: number) {
  const user = await userRow(telegramId);
  return h.db.db.select().from(payments).where(eq(payments.userId, user.id)).orderBy(payments.id);
}
async function subscriptionsOf(telegramId: number) {
  const user = await userRow(telegramId);
  return h.db.db.select().from(subscriptions).where(eq(subscriptions.userId, user.id));
}

describe("createInvoiceLink in the emulator follows the Bot API rules", () => {
  const base = {
    title: "Premium",
    description: "30 days",
    payload: "p",
    provider_token: "" as const,
    currency: "XTR" as const,
    prices: [{ label: "Premium", amount: 150 }] as [{ label: string; amount: number }],
  };
  it("refuses XTR with a provider token, a period other than 2592000, a subscription over 10 000 Stars, two prices", async () => {
    const refused = async (invoice: object) => {
      const error = await stars.createInvoiceLink(invoice as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BotApiError);
      expect((error as BotApiError).errorCode).toBe(400);
      return (error as BotApiError).description;
    };
    expect(await refused({ ...base, provider_token: "284685063:TEST:abc" })).toMatch(
      /PAYMENT_PROVIDER_INVALID/,
    );
    expect(await refused({ ...base, subscription_period: 86_400 })).toMatch(/SUBSCRIPTION_PERIOD_INVALID/);
    expect(
      await refused({
        ...base,
        subscription_period: SUBSCRIPTION_PERIOD_S,
        prices: [{ label: "x", amount: 10_001 }],
      }),
    ).toMatch(/SUBSCRIPTION_PRICE_INVALID/);
    expect(
      await refused({
        ...base,
        prices: [
          { label: "a", amount: 100 },
          { label: "b", amount: 50 },
        ],
      }),
    ).toMatch(/exactly one item/);
    expect(await refused({ ...base, payload: "x".repeat(129) })).toMatch(/INVOICE_PAYLOAD_INVALID/);
    expect(await stars.createInvoiceLink({ ...base, subscription_period: SUBSCRIPTION_PERIOD_S })).toMatch(
      /^https:\/\/t\.me\/\$/,
    );
  });

  it("the gateway's invoice for a monthly session is a native subscription (XTR, empty token, 2592000); quarterly is one-off", async () => {
    const telegramId = randomTelegramId();
    const monthly = await createSession(h, telegramId, "monthly");
    const res = await call(h, "POST", "/api/v1/stars/invoice-link", {
      auth: internalAuth,
      body: { session_id: monthly.session_id },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ stars_amount: 150, subscription: true });
    const sent = tg.callsOf("createInvoiceLink").at(-1)!;
    expect(sent).toMatchObject({
      currency: "XTR",
      provider_token: "",
      payload: monthly.session_id,
      subscription_period: 2_592_000,
      prices: [{ amount: 150 }],
    });
    const quarterly = await createSession(h, telegramId, "quarterly");
    const q = await call(h, "POST", "/api/v1/stars/invoice-link", {
      auth: internalAuth,
      body: { session_id: quarterly.session_id },
    });
    expect(q.body.data).toMatchObject({ stars_amount: 400, subscription: false });
    expect(tg.callsOf("createInvoiceLink").at(-1)!.subscription_period).toBeUndefined();
  });

  it("stars endpoints need the internal token (401 without, 404 for an unknown session)", async () => {
    const none = await call(h, "POST", "/api/v1/stars/invoice-link", {
      body: { session_id: "00000000-0000-4000-8000-000000000000" },
    });
    expect(none.status).toBe(401);
    const unknown = await call(h, "POST", "/api/v1/stars/invoice-link", {
      auth: internalAuth,
      body: { session_id: "00000000-0000-4000-8000-000000000000" },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("SESSION_NOT_FOUND");
  });
});

describe("a Stars subscription through the bot", () => {
  const user = newUser();
  let firstChargeId = "";
  // biome-ignore lint/suspicious/noExplicitAny: a Bot API update
  let firstUpdate: any;

  it("/premium offers both rails: the Mini App card button and a Stars invoice link for the same session", async () => {
    const { card, link } = await starsLinkFromBot(user);
    expect(card.web_app.url).toMatch(/session_id=/);
    expect(link).toBeDefined();
    const sessionId = new URL(card.web_app.url).searchParams.get("session_id");
    expect(tg.callsOf("createInvoiceLink").at(-1)!.payload).toBe(sessionId);
  });

  it("successful_payment after the bot's pre-checkout answer: a telegram_stars payment, premium, stars rail, card auto-renew off", async () => {
    const { link } = await starsLinkFromBot(user);
    const outcome = await tg.pay(link!, user);
    expect(outcome.status).toBe("paid");
    if (outcome.status !== "paid") return;
    firstChargeId = outcome.chargeId;
    firstUpdate = outcome.update;
    expect(tg.callsOf("answerPreCheckoutQuery").at(-1)).toMatchObject({ ok: true });

    const rows = await paymentsOf(user.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      provider: "telegram_stars",
      status: "success",
      kind: "initial",
      amount: 0,
      starsAmount: 150,
      telegramPaymentChargeId: firstChargeId,
    });
    const [sub] = await subscriptionsOf(user.id);
    expect(sub).toMatchObject({
      status: "active",
      rail: "stars",
      autoRenew: false,
      starsChargeId: firstChargeId,
    });
    expect(sub!.endDate.getTime() - sub!.startDate.getTime()).toBe(30 * DAY_MS);
    expect((await userRow(user.id)).role).toBe("premium");
    const session = await h.db.db
      .select()
      .from(paymentSessions)
      .where(eq(paymentSessions.id, rows[0]!.sessionId!));
    expect(session[0]!.status).toBe("completed");

    const view = await call(h, "GET", `/api/v1/user/${user.id}/subscription`, { auth: internalAuth });
    expect(view.body.data.subscription).toMatchObject({ renews_with: "stars", auto_renew: false });
    // The Mini App's session view names what the Stars payment bought (Telegram renews it).
    const paid = await call(h, "GET", `/api/v1/payment/session/${rows[0]!.sessionId}`, {
      auth: internalAuth,
    });
    expect(paid.body.data).toMatchObject({
      status: "completed",
      subscription: { id: sub!.id, end_date: sub!.endDate.toISOString(), auto_renew: true },
    });
    const audit = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, "payment"), eq(auditLog.entityId, String(rows[0]!.id))));
    expect(audit.map((a) => a.action)).toEqual(["payment.succeeded"]);
  });

  it("a duplicate successful_payment (redelivered, also twice at once) is counted once", async () => {
    const [before] = await subscriptionsOf(user.id);
    await Promise.all([tg.redeliver(firstUpdate), tg.redeliver(firstUpdate)]);
    await tg.redeliver(firstUpdate);
    expect(await paymentsOf(user.id)).toHaveLength(1);
    // The gateway says so (200 duplicate), rather than failing on the unique charge id.
    const again = await call(h, "POST", "/api/v1/stars/successful-payment", {
      auth: internalAuth,
      body: { telegram_id: user.id, successful_payment: firstUpdate.message.successful_payment },
    });
    expect(again.status).toBe(200);
    expect(again.body.data.status).toBe("duplicate");
    const [after] = await subscriptionsOf(user.id);
    expect(after!.endDate).toEqual(before!.endDate);
  });

  it("card auto-renew cannot be turned on while Telegram renews the Stars subscription (one rail renews)", async () => {
    const [sub] = await subscriptionsOf(user.id);
    const res = await call(h, "POST", `/api/v1/subscription/${sub!.id}/resume`, { auth: internalAuth });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/Stars/);
  });

  it("30 days later Telegram charges again (is_recurring): the same subscription is extended by 30 days", async () => {
    const [before] = await subscriptionsOf(user.id);
    h.clock.offsetMs += 30 * DAY_MS;
    const renewed = await tg.advance(30 * DAY_MS);
    expect(renewed).toHaveLength(1);
    expect(renewed[0]!.message.successful_payment).toMatchObject({ is_recurring: true });
    expect(renewed[0]!.message.successful_payment.is_first_recurring).toBeUndefined();
    const subs = await subscriptionsOf(user.id);
    expect(subs).toHaveLength(1);
    expect(subs[0]!.id).toBe(before!.id);
    expect(subs[0]!.endDate.getTime()).toBe(before!.endDate.getTime() + 30 * DAY_MS);
    expect(subs[0]!.starsExpiresAt).not.toBeNull();
    const rows = await paymentsOf(user.id);
    expect(rows.map((p) => [p.kind, p.status])).toEqual([
      ["initial", "success"],
      ["renewal", "success"],
    ]);
    expect(rows[1]!.subscriptionId).toBe(before!.id);
  });

  it("at its end date a Stars-renewed subscription waits a day for Telegram's recurring payment before it expires", async () => {
    const [sub] = await subscriptionsOf(user.id);
    const at = (ms: number) => ({ clock: () => new Date(sub!.endDate.getTime() + ms) });
    const early = await h.db.db.transaction((tx) =>
      expireIfDue(tx, at(60 * 60_000), { subscriptionId: sub!.id, check: "ended" }),
    );
    expect(early.status).toBe("not_due");
    expect((await subscriptionsOf(user.id))[0]!.status).toBe("active");
  });

  it("refunded_payment: the payment reversed and its period taken back", async () => {
    const [before] = await subscriptionsOf(user.id);
    const rows = await paymentsOf(user.id);
    const last = rows.at(-1)!;
    const update = await tg.userRefund(last.telegramPaymentChargeId!, user);
    await tg.redeliver(update);
    const after = await paymentsOf(user.id);
    expect(after.at(-1)!.status).toBe("reversed");
    const [sub] = await subscriptionsOf(user.id);
    expect(sub!.endDate.getTime()).toBe(before!.endDate.getTime() - 30 * DAY_MS);
    const refunds = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "payment.refunded"), eq(auditLog.entityId, String(last.id))));
    expect(refunds).toHaveLength(1);
  });
});

describe("pre-checkout", () => {
  it("refuses someone else's link and an expired session: Telegram charges nothing", async () => {
    const owner = newUser();
    const other = newUser();
    const { link } = await starsLinkFromBot(owner);
    const foreign = await tg.pay(link!, other);
    expect(foreign.status).toBe("refused");
    h.clock.offsetMs += 31 * 60_000;
    const late = await tg.pay(link!, owner);
    expect(late.status).toBe("refused");
    h.clock.offsetMs -= 31 * 60_000;
    expect(await paymentsOf(owner.id)).toHaveLength(0);
  });

  it(
    "no answer within 10 s (the bot is down): no charge, no payment, the session stays payable",
    async () => {
      const user = newUser();
      const { link } = await starsLinkFromBot(user);
      const live = newBot();
      tg.onUpdate(async () => {}); // the bot is down: the pre_checkout_query goes unanswered
      const started = Date.now();
      try {
        const outcome = await tg.pay(link!, user);
        expect(outcome.status).toBe("timeout");
        expect(Date.now() - started).toBeGreaterThanOrEqual(PRE_CHECKOUT_TIMEOUT_MS - 50);
      } finally {
        tg.onUpdate((update) => live.handleUpdate(update as never));
      }
      expect(await paymentsOf(user.id)).toHaveLength(0);
      expect(tg.charges.filter((c) => c.userId === user.id)).toHaveLength(0);
      // Once the bot is back, the same link is paid.
      expect((await tg.pay(link!, user)).status).toBe("paid");
      expect(await paymentsOf(user.id)).toHaveLength(1);
    },
    PRE_CHECKOUT_TIMEOUT_MS + 20_000,
  );

  it("a bot restart between pre-checkout and successful_payment loses nothing (the bot keeps no payment state)", async () => {
    const user = newUser();
    const { link } = await starsLinkFromBot(user);
    let first = newBot();
    tg.onUpdate(async (update) => {
      await first.handleUpdate(update as never);
      // The process restarts right after answering the pre-checkout query.
      if ("pre_checkout_query" in update) first = newBot();
    });
    const outcome = await tg.pay(link!, user);
    expect(outcome.status).toBe("paid");
    expect(await paymentsOf(user.id)).toHaveLength(1);
    expect((await userRow(user.id)).role).toBe("premium");
  });

  it("a one-off (quarterly) Stars payment extends a card subscription but leaves it on the card rail", async () => {
    const user = newUser();
    const { link } = await starsLinkFromBot(user, "quarterly");
    expect((await tg.pay(link!, user)).status).toBe("paid");
    const [sub] = await subscriptionsOf(user.id);
    expect(sub).toMatchObject({ rail: "card", starsChargeId: null });
    expect(sub!.endDate.getTime() - sub!.startDate.getTime()).toBe(90 * DAY_MS);
  });
});

describe("cancel, resume and refund of Stars payments", () => {
  const ADMIN_TOKEN = "stars-test-admin-token-0123456789";
  const user = newUser();
  let adminApp: ReturnType<typeof createApp>;

  beforeAll(async () => {
    adminApp = createApp(
      {
        db: h.db.db,
        ...sandboxRail(
          createAtmosClient({
            baseUrl: h.sandbox.url,
            consumerKey: "sandbox_consumer_key",
            consumerSecret: "sandbox_consumer_secret",
            storeId: STORE_ID,
            timeoutMs: 5_000,
          }),
        ),
        notificationsQueue: h.queue,
        redis: h.redis,
        logger: pino({ level: "silent" }),
        clock: () => new Date(Date.now() + h.clock.offsetMs),
        config: testGatewayConfig(),
        stars,
      },
      { admin: { adminToken: ADMIN_TOKEN, sessionTtlS: 3600 } },
    );
    const { link } = await starsLinkFromBot(user);
    expect((await tg.pay(link!, user)).status).toBe("paid");
  });

  it("/cancel on the stars rail cancels at Telegram (editUserStarSubscription): no renewal after the end; /resume turns it back on", async () => {
    const [sub] = await subscriptionsOf(user.id);
    const cancel = await call(h, "POST", `/api/v1/subscription/${sub!.id}/cancel`, { auth: internalAuth });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect(cancel.body.data.subscription.renews_with).toBeNull();
    expect(tg.callsOf("editUserStarSubscription").at(-1)).toEqual({
      user_id: user.id,
      telegram_payment_charge_id: sub!.starsChargeId,
      is_canceled: true,
    });
    expect(tg.subscriptions.get(sub!.starsChargeId!)!.canceled).toBe(true);
    const resume = await call(h, "POST", `/api/v1/subscription/${sub!.id}/resume`, { auth: internalAuth });
    expect(resume.status, JSON.stringify(resume.body)).toBe(200);
    expect(resume.body.data.subscription.renews_with).toBe("stars");
    expect(tg.subscriptions.get(sub!.starsChargeId!)!.canceled).toBe(false);
    const actions = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, "subscription"), eq(auditLog.entityId, String(sub!.id))));
    expect(actions.map((a) => a.action)).toEqual(["subscription.canceled", "subscription.resumed"]);
  });

  it("admin refund: refundStarPayment at Telegram, the payment reversed, access taken back, audited with the admin; a second is refused", async () => {
    const [payment] = await paymentsOf(user.id);
    const refund = (key: string) =>
      adminApp.request(`/api/v1/admin/payments/${payment!.id}/refund`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          "content-type": "application/json",
          "idempotency-key": key,
        },
        body: JSON.stringify({ reason: "user asked for a refund" }),
      });
    const res = await refund("stars-refund-1");
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(tg.callsOf("refundStarPayment").at(-1)).toEqual({
      user_id: user.id,
      telegram_payment_charge_id: payment!.telegramPaymentChargeId,
    });
    expect(tg.charges.find((c) => c.id === payment!.telegramPaymentChargeId)!.refunded).toBe(true);
    const [after] = await paymentsOf(user.id);
    expect(after!.status).toBe("reversed");
    const [sub] = await subscriptionsOf(user.id);
    expect(sub!.status).toBe("expired");
    expect((await userRow(user.id)).role).toBe("user");
    const audit = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "payment.refunded"), eq(auditLog.entityId, String(payment!.id))));
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toMatch(/^admin/);
    const second = await refund("stars-refund-2");
    expect(second.status).toBe(409);
  });

  it("reconcile against getStarTransactions: agrees after all of the above; a charge we never recorded is reported", async () => {
    const deps = { db: h.db.db, stars, clock: () => new Date(), logger: pino({ level: "silent" }) };
    const since = new Date(0);
    const clean = await reconcileStars(deps, since);
    expect(clean.checkedPayments).toBeGreaterThan(3);
    expect(clean.discrepancies).toEqual([]);
    tg.charges.push({
      id: "stxTlost",
      userId: user.id,
      amount: 150,
      date: Math.floor(Date.now() / 1000),
      payload: "x",
      refunded: false,
    });
    const lost = await reconcileStars(deps, since);
    expect(lost.discrepancies).toEqual([
      { kind: "missing_here", chargeId: "stxTlost", telegramId: user.id, stars: 150 },
    ]);
    tg.charges.pop();
  });
});

/** A Stars subscriber through the bot: /premium → monthly → pay the invoice link. */
async function starsSubscriber() {
  const user = newUser();
  const { link } = await starsLinkFromBot(user);
  expect((await tg.pay(link!, user)).status).toBe("paid");
  const [sub] = await subscriptionsOf(user.id);
  expect(sub).toMatchObject({ rail: "stars", starsCanceledAt: null });
  return { user, sub: sub!, chargeId: sub!.starsChargeId! };
}

async function auditOf(subscriptionId: number) {
  const rows = await h.db.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.entityType, "subscription"), eq(auditLog.entityId, String(subscriptionId))))
    .orderBy(auditLog.id);
  return rows;
}

describe("one subscription per user: a card with auto-renew takes over from a Stars subscription", () => {
  // The Mini App's initData is signed now: the gateway's clock comes back from the moved month.
  beforeAll(() => {
    h.clock.offsetMs = 0;
  });
  const reconcileDeps = () => ({
    db: h.db.db,
    stars,
    clock: () => new Date(Date.now() + h.clock.offsetMs),
    logger: pino({ level: "silent" }),
  });

  it("paying by card with auto-renew cancels the Stars renewal at Telegram after the payment commits, audited", async () => {
    const { user, sub, chargeId } = await starsSubscriber();
    const before = tg.callsOf("editUserStarSubscription").length;
    const prepared = await prepareSession(h, { telegramId: user.id, autoRenew: true, card: "humo2" });
    const res = await apply(h, prepared);
    expect(res.body.data.status, JSON.stringify(res.body)).toBe("completed");

    expect(tg.callsOf("editUserStarSubscription").slice(before)).toEqual([
      { user_id: user.id, telegram_payment_charge_id: chargeId, is_canceled: true },
    ]);
    // Telegram's side: the Stars subscription will not renew (the emulator charges only uncanceled ones).
    expect(tg.subscriptions.get(chargeId)!.canceled).toBe(true);
    const [after] = await subscriptionsOf(user.id);
    expect(after).toMatchObject({ id: sub.id, rail: "card", autoRenew: true });
    expect(after!.starsCanceledAt).not.toBeNull();
    expect((await auditOf(sub.id)).map((a) => a.action)).toContain("subscription.stars_renewal_canceled");
    const view = await call(h, "GET", `/api/v1/user/${user.id}/subscription`, { auth: internalAuth });
    expect(view.body.data.subscription.renews_with).toBe("card");
    // Nothing left owing: reconcile has nothing to retry for it.
    const report = await reconcileStars(reconcileDeps(), new Date(0));
    expect(report.discrepancies.filter((d) => d.kind === "stars_renewal_not_canceled")).toEqual([]);
  });

  it("a card payment without auto-renew leaves the Stars subscription renewing (one-off purchase)", async () => {
    const { user, chargeId } = await starsSubscriber();
    const before = tg.callsOf("editUserStarSubscription").length;
    const prepared = await prepareSession(h, { telegramId: user.id, autoRenew: false, card: "humo3" });
    expect((await apply(h, prepared)).body.data.status).toBe("completed");
    expect(tg.callsOf("editUserStarSubscription").length).toBe(before);
    expect(tg.subscriptions.get(chargeId)!.canceled).toBe(false);
    const [sub] = await subscriptionsOf(user.id);
    expect(sub).toMatchObject({ rail: "stars", starsCanceledAt: null });
  });

  it("an unclear answer (500 twice) is audited, alerts an operator, stays owed, and reconcile retries it", async () => {
    const { user, sub, chargeId } = await starsSubscriber();
    tg.failNext("editUserStarSubscription", 500, "Internal Server Error", 2);
    const prepared = await prepareSession(h, { telegramId: user.id, autoRenew: true, card: "humo4" });
    const res = await apply(h, prepared);
    // The card payment stands whatever Telegram said.
    expect(res.body.data.status).toBe("completed");
    expect(tg.subscriptions.get(chargeId)!.canceled).toBe(false);
    const [owing] = await subscriptionsOf(user.id);
    expect(owing).toMatchObject({ rail: "card", autoRenew: true, starsCanceledAt: null });
    const failed = (await auditOf(sub.id)).filter((a) => a.action === "subscription.stars_cancel_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.details).toMatchObject({ result: "unknown", starsChargeId: chargeId });
    const alerts = await h.db.db
      .select()
      .from(notificationOutbox)
      .where(eq(notificationOutbox.kind, "admin_alert"));
    expect(
      alerts.some((a) => JSON.stringify(a.payload).includes(`Subscription ${sub.id} now renews by card`)),
    ).toBe(true);

    // Telegram still failing: reconcile reports it.
    tg.failNext("editUserStarSubscription", 500, "Internal Server Error", 2);
    const still = await reconcileStars(reconcileDeps(), new Date(0));
    expect(still.discrepancies).toContainEqual(
      expect.objectContaining({ kind: "stars_renewal_not_canceled", subscriptionId: sub.id, chargeId }),
    );
    // Telegram answers again: reconcile cancels it, and it is no longer reported.
    const fixed = await reconcileStars(reconcileDeps(), new Date(0));
    expect(fixed.discrepancies.filter((d) => d.kind === "stars_renewal_not_canceled")).toEqual([]);
    expect(tg.subscriptions.get(chargeId)!.canceled).toBe(true);
    const [done] = await subscriptionsOf(user.id);
    expect(done!.starsCanceledAt).not.toBeNull();
    const actions = (await auditOf(sub.id)).map((a) => a.action);
    expect(actions.filter((a) => a === "subscription.stars_cancel_failed")).toHaveLength(2);
    expect(actions.at(-1)).toBe("subscription.stars_renewal_canceled");
  });

  it("a definite refusal (400) is not retried in place, and is audited as refused", async () => {
    const { user, sub } = await starsSubscriber();
    tg.failNext("editUserStarSubscription", 400, "Bad Request: SUBSCRIPTION_ID_INVALID", 1);
    const before = tg.callsOf("editUserStarSubscription").length;
    const prepared = await prepareSession(h, { telegramId: user.id, autoRenew: true, card: "humo1" });
    expect((await apply(h, prepared)).body.data.status).toBe("completed");
    expect(tg.callsOf("editUserStarSubscription").length).toBe(before + 1);
    const failed = (await auditOf(sub.id)).filter((a) => a.action === "subscription.stars_cancel_failed");
    expect(failed[0]!.details).toMatchObject({ result: "refused" });
    // Owed still: the next reconcile run cancels it.
    await reconcileStars(reconcileDeps(), new Date(0));
    expect((await subscriptionsOf(user.id))[0]!.starsCanceledAt).not.toBeNull();
  });
});

describe("Telegram Stars payments have no fiscal receipt", () => {
  const ADMIN_TOKEN = "stars-test-admin-token-receipts-0123";
  let adminApp: ReturnType<typeof createApp>;
  beforeAll(async () => {
    adminApp = createApp(
      {
        db: h.db.db,
        ...sandboxRail(
          createAtmosClient({
            baseUrl: h.sandbox.url,
            consumerKey: "sandbox_consumer_key",
            consumerSecret: "sandbox_consumer_secret",
            storeId: STORE_ID,
            timeoutMs: 5_000,
          }),
        ),
        notificationsQueue: h.queue,
        redis: h.redis,
        logger: pino({ level: "silent" }),
        clock: () => new Date(Date.now() + h.clock.offsetMs),
        config: testGatewayConfig(),
        stars,
      },
      { admin: { adminToken: ADMIN_TOKEN, sessionTtlS: 3600 } },
    );
  });
  const adminGet = async (path: string) => {
    const res = await adminApp.request(path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Json };
  };

  it("the admin 'without receipt' filter and flag and reconcile's 'without receipt' leave Stars payments out", async () => {
    const since = new Date(Date.now() + h.clock.offsetMs - 1000);
    const user = newUser();
    const { link } = await starsLinkFromBot(user, "quarterly");
    expect((await tg.pay(link!, user)).status).toBe("paid");
    const [payment] = await paymentsOf(user.id);
    expect(payment).toMatchObject({ provider: "telegram_stars", status: "success", receiptUrl: null });

    const listed = await adminGet(`/api/v1/admin/payments?search=${user.id}`);
    expect(listed.body.data.items.find((p: Json) => p.id === payment!.id)).toMatchObject({
      missing_receipt: false,
    });
    const flagged = await adminGet("/api/v1/admin/payments?without_receipt=true&limit=100");
    expect(flagged.status).toBe(200);
    expect(flagged.body.data.items.map((p: Json) => p.id)).not.toContain(payment!.id);
    const others = await adminGet("/api/v1/admin/payments?without_receipt=false&limit=100");
    expect(others.body.data.items.map((p: Json) => p.id)).toContain(payment!.id);

    const report = await reconcile(
      {
        db: h.db.db,
        provider: sandboxRail(
          createAtmosClient({
            baseUrl: h.sandbox.url,
            consumerKey: "sandbox_consumer_key",
            consumerSecret: "sandbox_consumer_secret",
            storeId: STORE_ID,
            timeoutMs: 5_000,
          }),
        ).provider,
        storeId: STORE_ID,
      },
      { since },
    );
    expect(report.discrepancies.filter((d) => d.paymentId === payment!.id)).toEqual([]);
  });
});

describe("premium events of a Stars subscription, as on the card rail", () => {
  const eventsOf = (subscriptionId: number) =>
    h.db.db
      .select()
      .from(premiumEvents)
      .where(eq(premiumEvents.subscriptionId, subscriptionId))
      .orderBy(premiumEvents.createdAt);

  it("/cancel records premium.canceled (renewal off, access until the end); /resume none; a second cancel of the period none", async () => {
    const { sub } = await starsSubscriber();
    const started = await eventsOf(sub.id);
    expect(started.map((e) => e.type)).toEqual(["premium.started"]);
    // Telegram renews it: a host bot is told the rail and that the next period is charged.
    expect(started[0]!.payload).toMatchObject({ subscription: { rail: "stars", auto_renew: true } });
    const telegramId = Number((started[0]!.payload as { telegram_id: number }).telegram_id);
    const entitlement = () => call(h, "GET", `/api/v1/entitlements/${telegramId}`, { auth: internalAuth });
    expect((await entitlement()).body.data).toMatchObject({ active: true, rail: "stars", auto_renew: true });
    const cancel = () => call(h, "POST", `/api/v1/subscription/${sub.id}/cancel`, { auth: internalAuth });
    const resume = () => call(h, "POST", `/api/v1/subscription/${sub.id}/resume`, { auth: internalAuth });
    expect((await cancel()).status).toBe(200);
    const canceled = (await eventsOf(sub.id)).filter((e) => e.type === "premium.canceled");
    expect(canceled).toHaveLength(1);
    expect(canceled[0]!.payload).toMatchObject({
      type: "premium.canceled",
      subscription: { id: sub.id, status: "active", active: true, auto_renew: false, rail: "stars" },
    });
    expect((await entitlement()).body.data).toMatchObject({ active: true, rail: "stars", auto_renew: false });
    expect((await resume()).status).toBe(200);
    expect((await cancel()).status).toBe(200);
    expect((await eventsOf(sub.id)).map((e) => e.type)).toEqual(["premium.started", "premium.canceled"]);
  });
});
