// Issue 16 in the browser: the Mini App speaks the language the user chose in the bot (stored on the
// user) before Telegram's language_code, with plan names and amounts in that language; and a failed
// link reopened says what really happened and how to get a new link, never "try another card".
import { createDb, type DbHandle } from "@obuna/db";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { translator } from "../src/lib/i18n";
import {
  type Browser,
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

const NBSP = "\u00a0";
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

/** What the bot does when the user picks a language in /start. */
async function chooseInBot(user: TestUser, language: "uz" | "ru" | "en") {
  const response = await fetch(`${inject("gatewayUrl")}/api/v1/user/${user.id}/language`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TEST_SECRETS.internalApiToken}`, "content-type": "application/json" },
    body: JSON.stringify({ language, first_name: user.first_name }),
  });
  expect(response.status).toBe(200);
}

describe("one language per user, true reasons", () => {
  it("Telegram says English, the bot choice was Russian: plan name and price in Russian (NBSP, сум)", async () => {
    const user = newUser("en");
    await chooseInBot(user, "ru");
    const link = await createPaymentLink(user);
    const page = await newPage(browser);
    await page.goto(launchUrl(`/?session_id=${link.session_id}`, user));
    await page.locator('[data-step="card"]').waitFor();
    await page.getByLabel("Номер карты").waitFor();
    await expect(page.locator("html").getAttribute("lang")).resolves.toBe("ru");
    await expect(page.getByTestId("plan-name").textContent()).resolves.toBe("1 месяц");
    await expect(page.getByTestId("price").textContent()).resolves.toBe(`29${NBSP}000${NBSP}сум`);
    await page.close();
  });

  it("reopening a failed link shows its real reason and the way to a new link, not another card", async () => {
    const user = newUser("en");
    await chooseInBot(user, "ru");
    const ru = translator("ru");
    const link = await createPaymentLink(user);
    // The card was blocked at the bank: the gateway failed the session with ATMOS's reason.
    await db.client`update payment_sessions set status = 'failed', failure_reason = 'card_blocked'
      where id = ${link.session_id}`;
    const page = await newPage(browser);
    const shot = screenshotter(page, "reopen-failed");
    await page.goto(launchUrl(`/?session_id=${link.session_id}`, user));
    await page.locator('[data-step="failure"]').waitFor();
    await page.getByText(ru("result.failure_title")).waitFor();
    await expect(page.getByTestId("failure-reason").textContent()).resolves.toBe(ru("error.CARD_BLOCKED"));
    await expect(page.getByRole("button", { name: ru("result.try_another_card") }).count()).resolves.toBe(0);
    await expect(page.getByTestId("new-link-hint").textContent()).resolves.toContain("/premium");
    await shot("card-blocked");
    await page.getByRole("button", { name: ru("reason.open_bot") }).click();
    expect((await telegramCalls(page)).map((call) => call.join(":"))).toContain("close");
    await page.close();

    // ATMOS closed the transaction (no money taken): that is what the page says.
    const closed = await createPaymentLink(user);
    await db.client`update payment_sessions set status = 'failed', failure_reason = 'transaction_closed'
      where id = ${closed.session_id}`;
    const again = await newPage(browser);
    await again.goto(launchUrl(`/?session_id=${closed.session_id}`, user));
    await again.locator('[data-step="failure"]').waitFor();
    await again.getByText(ru("result.failure_title")).waitFor();
    await expect(again.getByTestId("failure-reason").textContent()).resolves.toBe(ru("reason.closed"));
    await again.close();
  });
});
