import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SANDBOX_CARDS, SANDBOX_OTP } from "@obuna/atmos/sandbox";
import { findCardNumbers } from "@obuna/contracts/card";
import { signInitData } from "@obuna/contracts/testing";
import { createDb, type DbHandle } from "@obuna/db";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
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
import { TEST_OFFER } from "./offer";
import { TEST_SECRETS } from "./secrets";

// biome-ignore lint/suspicious/noExplicitAny: test JSON is checked by assertions, not types
type Json = any;

let browser: Browser;
let db: DbHandle;

beforeAll(async () => {
  browser = await launchBrowser();
  db = createDb(inject("databaseUrl"), { max: 2 });
});
afterAll(async () => {
  await browser?.close();
  await db?.close();
});

async function openCheckout(user: TestUser) {
  const link = await createPaymentLink(user);
  const page = await newPage(browser);
  const errors = collectErrors(page);
  await page.goto(launchUrl(`/?session_id=${link.session_id}`, user));
  await page.locator('[data-step="card"]').waitFor();
  return { page, sessionId: link.session_id, errors };
}

async function enterCard(page: Page, card: { pan: string; expiry: string }, autoRenew: boolean) {
  await page.getByLabel("Card number").pressSequentially(card.pan);
  await page.getByLabel("Valid thru (MM/YY)").pressSequentially(card.expiry.replace("/", ""));
  const toggle = page.getByRole("switch");
  if ((await toggle.isChecked()) !== autoRenew) await toggle.click();
}

async function paymentRows(telegramId: number) {
  const sql = db.client;
  const [user] = await sql<{ id: number }[]>`select id from users where telegram_id = ${telegramId}`;
  if (!user) throw new Error("user not created");
  const payments = await sql<{ status: string; amount: string; kind: string; card_masked: string | null }[]>`
    select status, amount::text, kind, card_masked from payments where user_id = ${user.id}`;
  const subscriptions = await sql<{ status: string; auto_renew: boolean; end_date: string | Date }[]>`
    select status, auto_renew, end_date from subscriptions where user_id = ${user.id}`;
  const cards = await sql<{ pan_masked: string; is_active: boolean }[]>`
    select pan_masked, is_active from bound_cards where user_id = ${user.id}`;
  const sessions = await sql<
    { status: string }[]
  >`select status from payment_sessions where user_id = ${user.id}`;
  return { payments, subscriptions, cards, sessions };
}

describe("checkout in Chromium against the gateway, the ATMOS sandbox and Postgres", () => {
  it("pays with auto-renew on: subscription, payment and bound card are in the database", async () => {
    const user = newUser("en");
    const { page, errors } = await openCheckout(user);
    const shot = screenshotter(page, "checkout-autorenew-on");
    await expect(page.getByTestId("plan-name").textContent()).resolves.toBeTruthy();
    await expect(page.getByTestId("price").textContent()).resolves.toMatch(/^UZS\u00a0\d{1,3}(,\d{3})*$/);
    await shot("plan");

    const card = SANDBOX_CARDS.uzcard2;
    await enterCard(page, card, true);
    await expect(page.getByTestId("card-type").textContent()).resolves.toBe("UzCard");
    await expect(page.getByLabel("Card number").inputValue()).resolves.toBe(
      card.pan.replace(/(\d{4})(?=\d)/g, "$1 "),
    );
    await shot("card-entered");

    await page.getByRole("button", { name: /^Pay / }).click();
    await page.locator('[data-step="otp"]').waitFor();
    await expect(page.getByTestId("otp-sent").textContent()).resolves.toMatch(/code/);
    await expect(page.getByRole("button", { name: /New code in \d+ s/ }).isDisabled()).resolves.toBe(true);
    await shot("otp");

    await page.getByLabel("Code from SMS").fill(SANDBOX_OTP);
    await page.getByRole("button", { name: "Confirm payment" }).click();
    await page.locator('[data-step="success"]').waitFor();
    await expect(page.getByTestId("saved-card").textContent()).resolves.toContain(card.pan.slice(-4));
    await shot("success");

    const rows = await paymentRows(user.id);
    expect(rows.payments).toHaveLength(1);
    expect(rows.payments[0]).toMatchObject({ status: "success", kind: "initial" });
    expect(rows.subscriptions).toHaveLength(1);
    expect(rows.subscriptions[0]).toMatchObject({ status: "active", auto_renew: true });
    expect(new Date(rows.subscriptions[0]!.end_date).getTime()).toBeGreaterThan(
      Date.now() + 25 * 24 * 3600 * 1000,
    );
    expect(rows.cards).toHaveLength(1);
    expect(rows.cards[0]!.is_active).toBe(true);
    expect(rows.cards[0]!.pan_masked).toContain(card.pan.slice(-4));
    expect(rows.cards[0]!.pan_masked).not.toContain(card.pan.slice(6, 12));
    expect(rows.sessions).toEqual([{ status: "completed" }]);

    const calls = (await telegramCalls(page)).map((call) => call.join(":"));
    expect(calls).toContain("ready");
    expect(calls).toContain("expand");
    expect(calls).toContain("enableClosingConfirmation");
    expect(calls).toContain("HapticFeedback.notificationOccurred:success");
    expect(calls).toContain("BackButton.show");
    expect(calls.some((call) => call.startsWith("MainButton.setText:Pay "))).toBe(true);
    // Nothing was blocked by the Content-Security-Policy, no hydration or script errors.
    expect(errors).toEqual([]);
    await page.close();
  });

  it("links the public offer under the pay button (uz/ru/en); the payment records the accepted version", async () => {
    const user = newUser("ru");
    const { page, errors } = await openCheckout(user);
    const shot = screenshotter(page, "checkout-offer");
    const offer = page.getByTestId("offer");
    await expect(offer.textContent()).resolves.toBe("Оплачивая, вы принимаете условия публичной оферты.");
    const link = offer.getByRole("link", { name: "публичной оферты" });
    await expect(link.getAttribute("href")).resolves.toBe(TEST_OFFER.url);
    await expect(link.getAttribute("target")).resolves.toBe("_blank");
    await shot("offer");
    await page.getByLabel("Номер карты").pressSequentially(SANDBOX_CARDS.humo2.pan);
    await page
      .getByLabel("Срок действия (ММ/ГГ)")
      .pressSequentially(SANDBOX_CARDS.humo2.expiry.replace("/", ""));
    const before = Date.now();
    await page.getByRole("button", { name: /^Оплатить / }).click();
    await page.locator('[data-step="otp"]').waitFor();
    await page.getByLabel("Код из SMS").fill(SANDBOX_OTP);
    await page.getByRole("button", { name: "Подтвердить оплату" }).click();
    await page.locator('[data-step="success"]').waitFor();
    const [payment] = await db.client<{ offer_version: string | null; offer_accepted_at: Date | null }[]>`
      select p.offer_version, p.offer_accepted_at from payments p join users u on u.id = p.user_id
      where u.telegram_id = ${user.id}`;
    expect(payment!.offer_version).toBe(TEST_OFFER.version);
    expect(new Date(payment!.offer_accepted_at!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("pays with auto-renew off: no card is saved", async () => {
    const user = newUser("en");
    const { page } = await openCheckout(user);
    const shot = screenshotter(page, "checkout-autorenew-off");
    await enterCard(page, SANDBOX_CARDS.humo1, false);
    await expect(page.getByTestId("card-type").textContent()).resolves.toBe("Humo");
    await expect(page.getByText("One payment.").isVisible()).resolves.toBe(true);
    await shot("card-entered");
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.getByLabel("Code from SMS").fill(SANDBOX_OTP);
    await shot("otp");
    await page.getByRole("button", { name: "Confirm payment" }).click();
    await page.locator('[data-step="success"]').waitFor();
    await expect(page.getByTestId("saved-card").count()).resolves.toBe(0);
    await expect(page.getByText("Auto-renew is off.").isVisible()).resolves.toBe(true);
    await shot("success");

    const rows = await paymentRows(user.id);
    expect(rows.payments).toHaveLength(1);
    expect(rows.payments[0]!.status).toBe("success");
    expect(rows.subscriptions).toHaveLength(1);
    expect(rows.subscriptions[0]).toMatchObject({ status: "active", auto_renew: false });
    expect(rows.cards).toHaveLength(0);
    await page.close();
  });

  it("wrong OTP shows the attempts left, then the right OTP pays once", async () => {
    const user = newUser("en");
    const { page } = await openCheckout(user);
    const shot = screenshotter(page, "checkout-wrong-otp");
    await enterCard(page, SANDBOX_CARDS.humo2, true);
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.locator('[data-step="otp"]').waitFor();
    await page.getByLabel("Code from SMS").fill("000000");
    await page.getByRole("button", { name: "Confirm payment" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong code." }).waitFor();
    await expect(page.getByTestId("attempts-left").textContent()).resolves.toMatch(/Attempts left: \d/);
    await shot("wrong-otp");
    const calls = (await telegramCalls(page)).map((call) => call.join(":"));
    expect(calls).toContain("HapticFeedback.notificationOccurred:error");

    await page.getByLabel("Code from SMS").fill(SANDBOX_OTP);
    await page.getByRole("button", { name: "Confirm payment" }).click();
    await page.locator('[data-step="success"]').waitFor();
    await shot("success");
    const rows = await paymentRows(user.id);
    expect(rows.payments.filter((p) => p.status === "success")).toHaveLength(1);
    expect(rows.subscriptions).toHaveLength(1);
    await page.close();
  });

  it("too many wrong codes stop the payment and send the person back to the bot", async () => {
    const user = newUser("en");
    const { page } = await openCheckout(user);
    const shot = screenshotter(page, "checkout-otp-attempts-exceeded");
    await enterCard(page, SANDBOX_CARDS.humo1, false);
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.locator('[data-step="otp"]').waitFor();
    for (let attempt = 1; attempt <= 10; attempt++) {
      await page.getByLabel("Code from SMS").fill("000000");
      const answered = page.waitForResponse((response) => response.url().endsWith("/api/gw/checkout/apply"));
      await page.getByRole("button", { name: "Confirm payment" }).click();
      await answered;
      // Either the next try is possible (input enabled again) or the payment was stopped.
      await page.locator('[data-step="failure"], input[name="otp"]:enabled').first().waitFor();
      if (await page.locator('[data-step="failure"]').count()) break;
      if (attempt === 2) await shot("attempts-left");
    }
    await expect(page.getByTestId("failure-reason").textContent()).resolves.toMatch(/^Too many wrong codes/);
    await expect(page.getByText("get a new payment link").isVisible()).resolves.toBe(true);
    await expect(page.getByRole("button", { name: "Try another card" }).count()).resolves.toBe(0);
    await shot("stopped");
    const rows = await paymentRows(user.id);
    expect(rows.payments.filter((p) => p.status === "success")).toHaveLength(0);
    expect(rows.subscriptions).toHaveLength(0);
    await page.close();
  });

  it("a declined card (insufficient funds) says why and what to do next", async () => {
    const user = newUser("en");
    const { page } = await openCheckout(user);
    const shot = screenshotter(page, "checkout-declined");
    await enterCard(page, SANDBOX_CARDS.insufficientFunds, false);
    await page.getByRole("button", { name: /^Pay / }).click();
    // ATMOS declines at apply: the gateway fails the session, so the next step is a new link.
    await page.getByLabel("Code from SMS").fill(SANDBOX_OTP);
    await page.getByRole("button", { name: "Confirm payment" }).click();
    await page.locator('[data-step="failure"]').waitFor();
    await expect(page.getByTestId("failure-reason").textContent()).resolves.toBe(
      "Not enough money on the card.",
    );
    await page.getByText("get a new payment link").waitFor();
    await shot("declined");
    const rows = await paymentRows(user.id);
    expect(rows.payments.filter((p) => p.status === "success")).toHaveLength(0);
    expect(rows.subscriptions).toHaveLength(0);
    expect(rows.sessions).toEqual([{ status: "failed" }]);
    const calls = (await telegramCalls(page)).map((call) => call.join(":"));
    expect(calls).toContain("HapticFeedback.notificationOccurred:error");
    await page.close();
  });

  it("an expired session tells the person to get a new link from the bot", async () => {
    const user = newUser("en");
    const link = await createPaymentLink(user);
    await db.client`update payment_sessions set expires_at = now() - interval '1 minute' where id = ${link.session_id}`;
    const page = await newPage(browser);
    const shot = screenshotter(page, "checkout-expired");
    await page.goto(launchUrl(`/?session_id=${link.session_id}`, user));
    await page.locator('[data-step="expired"]').waitFor();
    await expect(page.getByText("This payment link has expired").isVisible()).resolves.toBe(true);
    await expect(page.getByText("get a new payment link").isVisible()).resolves.toBe(true);
    await shot("expired");
    await page.close();
  });

  it("a double tap on Pay sends one create and one pre-apply", async () => {
    const user = newUser("en");
    const { page } = await openCheckout(user);
    const gatewayCalls: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/api/gw/checkout/")) gatewayCalls.push(new URL(request.url()).pathname);
    });
    await enterCard(page, SANDBOX_CARDS.humo3, false);
    await page.getByRole("button", { name: /^Pay / }).dblclick();
    await page.locator('[data-step="otp"]').waitFor();
    expect(gatewayCalls).toEqual(["/api/gw/checkout/create", "/api/gw/checkout/pre-apply"]);
    await page.close();
  });

  it("too many SMS codes for this person: the page says how long to wait", async () => {
    const user = newUser("en");
    // Spend the person's hourly SMS budget (15, over three sessions of 5) the way a flood would.
    const auth = `tma ${signInitData(user, TEST_SECRETS.botToken)}`;
    const gw = (path: string, body: unknown) =>
      fetch(`${inject("gatewayUrl")}/api/v1/${path}`, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));
    for (let s = 0; s < 3; s++) {
      const link = await createPaymentLink(user);
      const created = await gw("checkout/create", {
        session_id: link.session_id,
        amount: 2_900_000,
        auto_renew: false,
      });
      expect(created.status).toBe(200);
      for (let i = 0; i < 5; i++) {
        const pre = await gw("checkout/pre-apply", {
          session_id: link.session_id,
          transaction_id: created.body.data.transaction_id,
          card_number: SANDBOX_CARDS.humo2.pan,
          expiry: SANDBOX_CARDS.humo2.expiry,
        });
        expect(pre.status).toBe(200);
      }
    }
    const { page } = await openCheckout(user);
    const shot = screenshotter(page, "checkout-rate-limited");
    await enterCard(page, SANDBOX_CARDS.humo3, false);
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.getByText(/^Too many attempts\. Try again in (59|60) min\.$/).waitFor();
    await shot("rate-limited");
    expect(await page.locator('[data-step="otp"]').count()).toBe(0);
    await page.close();
  });

  it("card checks run before anything is sent", async () => {
    const user = newUser("en");
    const { page } = await openCheckout(user);
    const shot = screenshotter(page, "checkout-card-checks");
    let sent = 0;
    page.on("request", (request) => {
      if (request.url().includes("/api/gw/checkout/")) sent += 1;
    });
    await page.getByLabel("Card number").pressSequentially("8600123412341235");
    await page.getByLabel("Valid thru (MM/YY)").pressSequentially("0120");
    await page.getByRole("button", { name: /^Pay / }).click();
    await expect(page.getByText("This card number has a typo.").isVisible()).resolves.toBe(true);
    await expect(page.getByText("This card has expired.").isVisible()).resolves.toBe(true);
    await shot("invalid");
    await page.getByLabel("Card number").fill("4111111111111111");
    await page.getByRole("button", { name: /^Pay / }).click();
    await expect(page.getByText("Only UzCard and Humo cards are accepted.").isVisible()).resolves.toBe(true);
    expect(sent).toBe(0);
    await page.close();
  });

  it("when ATMOS's answer to the charge is lost, the page shows only what the gateway confirms, and charges once", async () => {
    const configured = await fetch(`${inject("sandboxUrl")}/_sandbox/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ loseNextApply: 1, faultPath: "/merchant/pay/confirm-with-ofd-list" }),
    });
    expect(configured.ok).toBe(true);
    try {
      const user = newUser("en");
      const { page } = await openCheckout(user);
      const shot = screenshotter(page, "checkout-lost-answer");
      await enterCard(page, SANDBOX_CARDS.humo1, false);
      await page.getByRole("button", { name: /^Pay / }).click();
      await page.getByLabel("Code from SMS").fill(SANDBOX_OTP);
      await page.getByRole("button", { name: "Confirm payment" }).click();
      await page.locator('[data-step="success"], [data-step="slow"]').first().waitFor({ timeout: 45_000 });
      await shot("result");
      const rows = await paymentRows(user.id);
      const succeeded = rows.payments.filter((p) => p.status === "success");
      if (await page.locator('[data-step="success"]').count()) {
        expect(succeeded).toHaveLength(1);
        expect(rows.subscriptions).toHaveLength(1);
      } else {
        expect(succeeded.length).toBeLessThanOrEqual(1);
      }
      await page.close();
    } finally {
      await fetch(`${inject("sandboxUrl")}/_sandbox/config`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ loseNextApply: 0, faultPath: null }),
      });
    }
  });

  it("no card number reaches the gateway's or the Mini App server's logs", async () => {
    const logs = join(import.meta.dirname, "../test-artifacts/logs");
    for (const name of ["gateway.log", "miniapp.log"]) {
      const text = readFileSync(join(logs, name), "utf8");
      expect(findCardNumbers(text), name).toEqual([]);
      for (const card of Object.values(SANDBOX_CARDS))
        expect(text.includes(card.pan), `${name}: ${card.pan.slice(-4)}`).toBe(false);
    }
    expect(readFileSync(join(logs, "gateway.log"), "utf8")).toContain("gateway listening on");
  });
});
