import { SANDBOX_CARDS, SANDBOX_OTP } from "@obuna/atmos/sandbox";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type Browser,
  createPaymentLink,
  DARK_THEME,
  launchBrowser,
  launchUrl,
  newPage,
  newUser,
  screenshotter,
  telegramCalls,
} from "./browser";

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("Mini App look, language and Telegram integration", () => {
  it("starts in the Telegram user's language (Uzbek by default) and switches language", async () => {
    const user = newUser("de");
    const link = await createPaymentLink(user);
    const page = await newPage(browser);
    const shot = screenshotter(page, "language");
    await page.goto(launchUrl(`/?session_id=${link.session_id}`, user));
    await page.locator('[data-step="card"]').waitFor();
    await expect(page.getByLabel("Karta raqami").isVisible()).resolves.toBe(true);
    await expect(page.locator("html").getAttribute("lang")).resolves.toBe("uz");
    await shot("uz");

    await page.getByRole("button", { name: "Русский" }).click();
    await expect(page.getByLabel("Номер карты").isVisible()).resolves.toBe(true);
    await expect(page.getByRole("button", { name: /^Оплатить / }).isVisible()).resolves.toBe(true);
    await expect(page.locator("html").getAttribute("lang")).resolves.toBe("ru");
    await shot("ru");

    await page.getByRole("button", { name: "English" }).click();
    await expect(page.getByLabel("Card number").isVisible()).resolves.toBe(true);
    await shot("en");

    // The choice survives a reload; errors come in the chosen language.
    await page.getByRole("button", { name: "Русский" }).click();
    await page.reload();
    await page.locator('[data-step="card"]').waitFor();
    await page.getByLabel("Номер карты").pressSequentially("8600123412341234");
    await page.getByRole("button", { name: /^Оплатить / }).click();
    await expect(page.getByText("В номере карты опечатка. Проверьте его.").isVisible()).resolves.toBe(true);
    await shot("ru-error");
    await page.close();
  });

  it("a Russian Telegram user gets Russian", async () => {
    const user = newUser("ru-RU");
    const link = await createPaymentLink(user);
    const page = await newPage(browser);
    await page.goto(launchUrl(`/?session_id=${link.session_id}`, user));
    await page.locator('[data-step="card"]').waitFor();
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Оплата подписки");
    await page.close();
  });

  it("follows Telegram's dark theme colours", async () => {
    const user = newUser("en");
    const link = await createPaymentLink(user);
    const page = await newPage(browser);
    const shot = screenshotter(page, "dark-theme");
    await page.goto(launchUrl(`/?session_id=${link.session_id}`, user, DARK_THEME));
    await page.locator('[data-step="card"]').waitFor();
    await expect(page.locator("html").getAttribute("data-theme")).resolves.toBe("dark");
    const colours = await page.evaluate(() => {
      const body = getComputedStyle(document.body);
      const button = document.querySelector("button[type=submit]");
      return {
        background: body.backgroundColor,
        text: body.color,
        button: button ? getComputedStyle(button).backgroundColor : null,
        scheme: getComputedStyle(document.documentElement).colorScheme,
      };
    });
    expect(colours.background).toBe("rgb(33, 45, 59)"); // #212d3b
    expect(colours.text).toBe("rgb(255, 255, 255)");
    expect(colours.scheme).toBe("dark");
    await shot("card");
    await page.close();
  });

  it("uses Telegram's MainButton for the primary action and BackButton between steps", async () => {
    const user = newUser("en");
    const link = await createPaymentLink(user);
    const page = await newPage(browser);
    await page.goto(launchUrl(`/?session_id=${link.session_id}`, user));
    await page.locator('[data-step="card"]').waitFor();
    await page.getByLabel("Card number").pressSequentially(SANDBOX_CARDS.humo4.pan);
    await page
      .getByLabel("Valid thru (MM/YY)")
      .pressSequentially(SANDBOX_CARDS.humo4.expiry.replace("/", ""));
    // Tap the (stubbed) Telegram MainButton instead of the page's button.
    await page.evaluate(() => {
      for (const handler of (window as unknown as { __tgHandlers: { main: Array<() => void> } }).__tgHandlers
        .main)
        handler();
    });
    await page.locator('[data-step="otp"]').waitFor();
    let calls = (await telegramCalls(page)).map((call) => call.join(":"));
    expect(calls).toContain("MainButton.show");
    expect(calls).toContain("MainButton.showProgress:false");
    expect(calls).toContain("MainButton.setText:Confirm payment");
    expect(calls).toContain("BackButton.show");

    // BackButton returns to the card step.
    await page.evaluate(() => {
      for (const handler of (window as unknown as { __tgHandlers: { back: Array<() => void> } }).__tgHandlers
        .back)
        handler();
    });
    await page.locator('[data-step="card"]').waitFor();
    calls = (await telegramCalls(page)).map((call) => call.join(":"));
    expect(calls).toContain("BackButton.hide");
    await page.close();
  });

  it("account page: status, next charge, auto-renew off and on, card removal, payment history", async () => {
    const user = newUser("en");
    const link = await createPaymentLink(user);
    const page = await newPage(browser);
    const shot = screenshotter(page, "account");
    await page.goto(launchUrl(`/?session_id=${link.session_id}`, user));
    await page.locator('[data-step="card"]').waitFor();
    await page.getByLabel("Card number").pressSequentially(SANDBOX_CARDS.uzcard1.pan);
    await page
      .getByLabel("Valid thru (MM/YY)")
      .pressSequentially(SANDBOX_CARDS.uzcard1.expiry.replace("/", ""));
    if (!(await page.getByRole("switch").isChecked())) await page.getByRole("switch").click();
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.getByLabel("Code from SMS").fill(SANDBOX_OTP);
    await page.getByRole("button", { name: "Confirm payment" }).click();
    await page.locator('[data-step="success"]').waitFor();

    await page.getByRole("link", { name: "My subscription" }).click();
    await page.locator('[data-page="account"]').waitFor();
    await expect(page.getByTestId("account-status").textContent()).resolves.toBe("Active");
    await expect(page.getByTestId("next-charge").textContent()).resolves.toMatch(
      /^Next charge: \d\d\.\d\d\.\d{4}, UZS\u00a0[\d,]+, card /,
    );
    await expect(page.getByTestId("autorenew-state").textContent()).resolves.toBe("Auto-renew is on.");
    await expect(page.getByTestId("saved-card-row").count()).resolves.toBe(1);
    await expect(page.getByTestId("payment-row").count()).resolves.toBe(1);
    await expect(page.getByTestId("payment-row").textContent()).resolves.toContain("Paid");
    // The fiscal receipt ATMOS issued for the charge is linked from the history.
    const ledger = (await fetch(`${inject("sandboxUrl")}/_sandbox/ledger`).then((r) => r.json())) as {
      transactions: { account: string; ofdUrl: string | null; state: string }[];
    };
    const receiptUrls = ledger.transactions.map((t) => t.ofdUrl).filter(Boolean);
    const href = await page.getByTestId("payment-receipt").getAttribute("href");
    expect(href).toMatch(/^https:\/\//);
    expect(receiptUrls).toContain(href);
    await expect(page.getByTestId("payment-receipt").textContent()).resolves.toBe("🧾 Receipt");
    await shot("active");

    await page.getByRole("button", { name: "Turn off" }).click();
    await page.getByTestId("autorenew-state").filter({ hasText: "Auto-renew is off." }).waitFor();
    await expect(page.getByTestId("account-status").textContent()).resolves.toBe("Active");
    await shot("autorenew-off");
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.getByTestId("autorenew-state").filter({ hasText: "Auto-renew is on." }).waitFor();

    await page.getByRole("button", { name: "Remove" }).click();
    await page.getByText("Remove this card?").waitFor();
    await shot("confirm-removal");
    await page.getByRole("button", { name: "Yes, remove" }).click();
    await page.getByText("Card removed.").waitFor();
    await page.getByTestId("saved-card-row").waitFor({ state: "detached" });
    await expect(page.getByText("No saved cards.").isVisible()).resolves.toBe(true);
    await shot("card-removed");
    await page.close();
  });

  it("outside Telegram the page says so, and with ?dev_user= it shows a development notice", async () => {
    const user = newUser("en");
    const link = await createPaymentLink(user);
    const page = await newPage(browser);
    const shot = screenshotter(page, "outside-telegram");
    await page.goto(`${inject("miniappUrl")}/?session_id=${link.session_id}`);
    await page.getByText("Open this page from the bot in Telegram.").waitFor();
    await shot("no-init-data");

    // The test gateway runs with DEV_ALLOW_UNSIGNED_INIT_DATA=true, so `tma dev:<id>` works.
    await page.goto(`${inject("miniappUrl")}/?session_id=${link.session_id}&dev_user=${user.id}`);
    await page.locator('[data-step="card"]').waitFor();
    await expect(page.getByTestId("dev-notice").textContent()).resolves.toContain(String(user.id));
    await shot("dev-mode");
    await page.close();
  });

  it("another Telegram user cannot open someone else's payment link: it looks like a link that does not exist", async () => {
    const owner = newUser("en");
    const link = await createPaymentLink(owner);
    const stranger = newUser("en");
    const seen: Array<string | null> = [];
    for (const sessionId of [link.session_id, "00000000-0000-4000-8000-000000000000"]) {
      const page = await newPage(browser);
      await page.goto(launchUrl(`/?session_id=${sessionId}`, stranger));
      await page.locator('[data-step="expired"]').waitFor();
      seen.push(await page.locator("main").textContent());
      await page.close();
    }
    // Same page for "someone else's" and "no such link" (the gateway answers the same 404 for both).
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]).not.toContain("another Telegram account");
  });
});
