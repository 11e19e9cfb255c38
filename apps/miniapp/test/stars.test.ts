import { createDb, type DbHandle } from "@obuna/db";
import { type ObunaFlavor, obuna } from "@obuna/grammy";
import { createGatewayClient } from "@obuna/grammy/gateway-client";
import { Bot, type Context } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type PaymentsEmulator, startPaymentsEmulator } from "../../gateway/test/bot-api-payments-emulator";
import {
  type Browser,
  collectErrors,
  createPaymentLink,
  launchBrowser,
  launchUrl,
  newPage,
  newUser,
  screenshotter,
  type TestUser,
  telegramCalls,
} from "./browser";
import { TEST_SECRETS } from "./secrets";

/**
 * The checkout's "Pay with Telegram Stars" in Chromium: the page asks the real gateway for the
 * session's invoice link (made at the Bot API payments emulator the gateway calls), opens it with
 * Telegram.WebApp.openInvoice (the test's bridge answers with a status), and shows the outcome. For
 * `paid`, the payment first really happens: the emulator's pre_checkout_query and successful_payment
 * go through our grammY plugin into the gateway, so the page shows what the server recorded.
 */

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

type InvoiceStatus = "paid" | "cancelled" | "failed" | "pending";

let tg: PaymentsEmulator;
let browser: Browser;
let db: DbHandle;

beforeAll(async () => {
  tg = await startPaymentsEmulator({ botToken: TEST_SECRETS.botToken, port: inject("telegramApiPort") });
  const bot = new Bot<Context & ObunaFlavor>(TEST_SECRETS.botToken, {
    client: { apiRoot: tg.apiRoot },
    botInfo,
  });
  bot.use(
    obuna<Context>({
      gateway: createGatewayClient({
        baseUrl: inject("gatewayUrl"),
        internalToken: TEST_SECRETS.internalApiToken,
      }),
    }),
  );
  tg.onUpdate((update) => bot.handleUpdate(update as never));
  browser = await launchBrowser();
  db = createDb(inject("databaseUrl"), { max: 2 });
});
afterAll(async () => {
  await browser?.close();
  await tg?.close();
  await db?.close();
});

/**
 * The checkout of a new link, in a Telegram client whose openInvoice runs `onInvoice(url)` in the
 * test (Node) and calls back with the status it returns.
 */
async function openCheckout(user: TestUser, onInvoice: (url: string) => Promise<InvoiceStatus>) {
  const link = await createPaymentLink(user);
  const page = await newPage(browser);
  const errors = collectErrors(page);
  await page.exposeFunction("__tgInvoiceOutcome", onInvoice);
  await page.addInitScript(() => {
    const w = window as unknown as {
      __tgOpenInvoice: (url: string) => Promise<string>;
      __tgInvoiceOutcome: (url: string) => Promise<string>;
    };
    w.__tgOpenInvoice = (url) => w.__tgInvoiceOutcome(url);
  });
  await page.goto(launchUrl(`/?session_id=${link.session_id}`, user));
  await page.locator('[data-step="card"]').waitFor();
  return { page, sessionId: link.session_id, errors };
}

async function rows(telegramId: number) {
  const sql = db.client;
  const payments = await sql<{ provider: string; status: string; stars_amount: number | null }[]>`
    select p.provider, p.status, p.stars_amount from payments p join users u on u.id = p.user_id
    where u.telegram_id = ${telegramId}`;
  const sessions = await sql<{ status: string }[]>`
    select s.status from payment_sessions s join users u on u.id = s.user_id where u.telegram_id = ${telegramId}`;
  const subscriptions = await sql<{ rail: string; status: string; end_date: Date }[]>`
    select s.rail, s.status, s.end_date from subscriptions s join users u on u.id = s.user_id
    where u.telegram_id = ${telegramId}`;
  return { payments, sessions, subscriptions };
}

const starsButton = (page: Page) => page.getByRole("button", { name: "Pay with Telegram Stars" });

describe("Pay with Telegram Stars in the Mini App (openInvoice)", () => {
  it("paid: the Stars payment really happens (pre-checkout, successful_payment through the bot), then the page shows the server's result", async () => {
    const user = newUser("en");
    const emulated = { id: user.id, first_name: user.first_name, language_code: "en" };
    let invoiceUrl = "";
    const { page, errors, sessionId } = await openCheckout(user, async (url) => {
      invoiceUrl = url;
      // Telegram's side of the purchase: the user confirms in the invoice sheet.
      const outcome = await tg.pay(url, emulated);
      return outcome.status === "paid" ? "paid" : "failed";
    });
    const shot = screenshotter(page, "checkout-stars-paid");
    await shot("card-and-stars");
    await starsButton(page).click();
    await page.locator('[data-step="success"]').waitFor();
    await shot("success");

    // The invoice the page opened is the gateway's Stars invoice for this session (XTR, 30-day subscription).
    expect(invoiceUrl).toMatch(/^https:\/\/t\.me\/\$/);
    expect((await telegramCalls(page)).filter((c) => c[0] === "openInvoice")).toEqual([
      ["openInvoice", invoiceUrl],
    ]);
    expect(tg.callsOf("createInvoiceLink").at(-1)).toMatchObject({
      currency: "XTR",
      provider_token: "",
      payload: sessionId,
      subscription_period: 2_592_000,
    });
    const state = await rows(user.id);
    expect(state.payments).toEqual([{ provider: "telegram_stars", status: "success", stars_amount: 150 }]);
    expect(state.sessions).toEqual([{ status: "completed" }]);
    expect(state.subscriptions).toHaveLength(1);
    expect(state.subscriptions[0]).toMatchObject({ rail: "stars", status: "active" });
    // The success text carries the end date the server recorded.
    const endDate = new Date(state.subscriptions[0]!.end_date);
    await expect(page.getByTestId("success-text").textContent()).resolves.toContain(
      String(endDate.getUTCFullYear()),
    );
    await expect(page.getByTestId("renewal-note").textContent()).resolves.toMatch(
      /Telegram renews it every 30 days/,
    );
    expect(errors).toEqual([]);
  });

  it("cancelled: nothing charged, the page stays payable (Stars again, or a card)", async () => {
    const user = newUser("en");
    const { page, errors } = await openCheckout(user, async () => "cancelled");
    await starsButton(page).click();
    await expect(page.getByTestId("stars-notice").textContent()).resolves.toMatch(/cancelled/);
    expect(await page.locator('[data-step="card"]').count()).toBe(1);
    await expect(starsButton(page).isEnabled()).resolves.toBe(true);
    await expect(page.getByLabel("Card number").isEnabled()).resolves.toBe(true);
    await screenshotter(page, "checkout-stars-cancelled")("cancelled");
    const state = await rows(user.id);
    expect(state.payments).toEqual([]);
    expect(state.sessions).toEqual([{ status: "pending" }]);
    expect(errors).toEqual([]);
  });

  it("failed: an error text, nothing charged, still payable", async () => {
    const user = newUser("en");
    const { page } = await openCheckout(user, async () => "failed");
    await starsButton(page).click();
    await expect(page.locator('[data-step="card"] [role="alert"]').textContent()).resolves.toMatch(
      /did not go through/,
    );
    expect(await page.locator('[data-step="card"]').count()).toBe(1);
    await screenshotter(page, "checkout-stars-failed")("failed");
    const state = await rows(user.id);
    expect(state.payments).toEqual([]);
    expect(state.sessions).toEqual([{ status: "pending" }]);
  });

  it("pending: the page waits for the gateway, and shows success once Telegram's successful_payment is recorded", async () => {
    const user = newUser("en");
    const emulated = { id: user.id, first_name: user.first_name, language_code: "en" };
    let pay: Promise<unknown> = Promise.resolve();
    const { page } = await openCheckout(user, async (url) => {
      // Telegram still processes it: successful_payment arrives after the sheet closed.
      pay = new Promise((resolve) => setTimeout(resolve, 2500)).then(() => tg.pay(url, emulated));
      return "pending";
    });
    await starsButton(page).click();
    await page.locator('[data-step="processing"]').waitFor();
    await pay;
    await page.locator('[data-step="success"]').waitFor();
    expect((await rows(user.id)).payments).toEqual([
      { provider: "telegram_stars", status: "success", stars_amount: 150 },
    ]);
  });

  it("another user's session: the gateway refuses the invoice as a missing session", async () => {
    const owner = newUser("en");
    const link = await createPaymentLink(owner);
    const stranger = newUser("en");
    const { testInitData } = await import("./browser");
    const response = await fetch(
      `${inject("gatewayUrl")}/api/v1/payment/session/${link.session_id}/stars-invoice`,
      {
        method: "POST",
        headers: { authorization: `tma ${testInitData(stranger)}` },
      },
    );
    expect(response.status).toBe(404);
    const own = await fetch(
      `${inject("gatewayUrl")}/api/v1/payment/session/${link.session_id}/stars-invoice`,
      {
        method: "POST",
        headers: { authorization: `tma ${testInitData(owner)}` },
      },
    );
    expect(own.status).toBe(200);
    // The bot's token cannot ask for it here (paying is the user's own signed act).
    const bot = await fetch(
      `${inject("gatewayUrl")}/api/v1/payment/session/${link.session_id}/stars-invoice`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_SECRETS.internalApiToken}` },
      },
    );
    expect(bot.status).toBe(403);
  });
});
