import { SANDBOX_CARDS } from "@obuna/atmos/sandbox";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  asTelegramClient,
  type Browser,
  createPaymentLink,
  launchBrowser,
  launchFragment,
  launchUrl,
  newPage,
  newUser,
  screenshotter,
  testInitData,
} from "./browser";

/**
 * Issue 17 item 12, "whose account is paying": the Mini App signs in only with what the Telegram
 * client gives `Telegram.WebApp.initData`, never with a `#tgWebAppData=` a link carries; the
 * checkout names the paying account; paying needs launch data from the last minutes.
 */

let telegram: Browser;
let plainBrowser: Browser;

beforeAll(async () => {
  telegram = await launchBrowser();
  plainBrowser = await launchBrowser({ telegramClient: false });
});
afterAll(async () => {
  await telegram?.close();
  await plainBrowser?.close();
});

/** The `tma …` Authorization headers the page sent to the gateway proxy. */
function sentAuthorizations(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/api/gw/")) {
      const auth = request.headers().authorization;
      if (auth) seen.push(auth);
    }
  });
  return seen;
}

describe("whose account is paying", () => {
  it("a link carrying someone else's launch data signs no one in outside a Telegram client", async () => {
    const attacker = { ...newUser("en"), first_name: "Mallory", username: "mallory" };
    const link = await createPaymentLink(attacker);
    const page = await newPage(plainBrowser);
    const sent = sentAuthorizations(page);
    const shot = screenshotter(page, "attack-link-plain-browser");
    // What the attacker sends the victim: their own session and their own fresh initData.
    await page.goto(launchUrl(`/?session_id=${link.session_id}`, attacker));
    await page.getByText("Open this page from the bot in Telegram.").waitFor();
    await shot("refused");
    expect(await page.locator('[data-step="card"]').count()).toBe(0);
    expect(sent).toEqual([]);
    await page.close();
  });

  it("inside Telegram the page uses Telegram.WebApp.initData, not the fragment, and names the payer", async () => {
    const attacker = { ...newUser("en"), first_name: "Mallory", username: "mallory" };
    const victim = { ...newUser("en"), first_name: "Dilnoza", username: "dilnoza_uz" };
    const victimLink = await createPaymentLink(victim);
    const page = await newPage(telegram);
    const sent = sentAuthorizations(page);
    const shot = screenshotter(page, "attack-fragment-inside-telegram");
    const victimInitData = testInitData(victim);
    await asTelegramClient(page, victimInitData);
    const url = new URL(`/?session_id=${victimLink.session_id}`, launchUrl("/", victim));
    url.hash = launchFragment(testInitData(attacker));
    await page.goto(url.toString());
    await page.locator('[data-step="card"]').waitFor();
    await expect(page.getByTestId("paying-as").textContent()).resolves.toBe(
      `Paying as Dilnoza (@dilnoza_uz, id ${victim.id})`,
    );
    await shot("paying-as-victim");
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((auth) => auth === `tma ${victimInitData}`)).toBe(true);
    await page.close();
  });

  it("shows the paying account in the user's language", async () => {
    const user = { ...newUser("uz"), first_name: "Oʻgʻiloy", username: "ogiloy" };
    const link = await createPaymentLink(user);
    const page = await newPage(telegram);
    await page.goto(launchUrl(`/?session_id=${link.session_id}`, user));
    await page.locator('[data-step="card"]').waitFor();
    await expect(page.getByTestId("paying-as").textContent()).resolves.toBe(
      `To'lov hisobi: Oʻgʻiloy (@ogiloy, id ${user.id})`,
    );
    await page.close();
  });

  it("paying with launch data older than TMA_INIT_DATA_PAY_MAX_AGE_S asks to reopen from the bot", async () => {
    const user = newUser("en");
    const link = await createPaymentLink(user);
    const page = await newPage(telegram);
    const shot = screenshotter(page, "stale-launch-data");
    // Launched 20 minutes ago: reading is fine (24 h), paying is not (15 min).
    await page.goto(
      launchUrl(`/?session_id=${link.session_id}`, user, undefined, {
        authDate: new Date(Date.now() - 20 * 60_000),
      }),
    );
    await page.locator('[data-step="card"]').waitFor();
    await page.getByLabel("Card number").pressSequentially(SANDBOX_CARDS.humo1.pan);
    await page
      .getByLabel("Valid thru (MM/YY)")
      .pressSequentially(SANDBOX_CARDS.humo1.expiry.replace("/", ""));
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.locator('[data-step="reopen"]').waitFor();
    await expect(page.locator('[data-step="reopen"]').textContent()).resolves.toContain(
      "This page was opened too long ago. For your safety, close it and open the payment from the bot again.",
    );
    await shot("reopen");
    await page.close();
  });
});
