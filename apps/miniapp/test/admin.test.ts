import { createDb, type DbHandle } from "@obuna/db";
import { findDueRenewals } from "@obuna/db/queries";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import {
  configureSandbox,
  confirmAction,
  newAdminTestUser,
  payThroughGateway,
  sandboxLedger,
  signIn,
  waitForNotice,
} from "./admin-helpers";
import { type Browser, collectErrors, launchBrowser, launchUrl, newUser, screenshotter } from "./browser";
import { TEST_SECRETS } from "./secrets";

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
beforeEach(async () => {
  await browser.context.clearCookies();
});

/** Visible text of an element (waits for it to exist). */
async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? "").trim();
}

async function adminPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 900 });
  return { page, errors: collectErrors(page) };
}

async function subscriptionOf(telegramId: number) {
  const [row] = await db.client<
    { id: number; status: string; end_date: Date; start_date: Date; auto_renew: boolean }[]
  >`select s.id, s.status, s.end_date, s.start_date, s.auto_renew from subscriptions s
    join users u on u.id = s.user_id where u.telegram_id = ${telegramId} order by s.id desc limit 1`;
  if (!row) throw new Error("no subscription");
  return {
    ...row,
    id: Number(row.id),
    end_date: new Date(row.end_date),
    start_date: new Date(row.start_date),
  };
}

/** Is the subscription among those the renewals sweep would charge once its end date has come? */
async function renewalsWouldCharge(subscriptionId: number, endDate: Date): Promise<boolean> {
  const due = await findDueRenewals(db.db, { now: new Date(endDate), leadMs: 60_000, limit: 100_000 });
  return due.some((row) => row.subscriptionId === subscriptionId);
}

describe("admin panel in Chromium against the gateway admin API, the ATMOS sandbox and Postgres", () => {
  it("payments show the fiscal receipt link and mark a charge without a receipt; the filter finds it", async () => {
    const withReceipt = newAdminTestUser();
    const good = await payThroughGateway(withReceipt, { autoRenew: false });
    const without = newAdminTestUser();
    await configureSandbox({ receiptlessNext: 1 });
    const bad = await payThroughGateway(without, { autoRenew: false });
    const idOf = async (sessionId: string) =>
      Number(
        (await db.client<{ id: number }[]>`select id from payments where session_id = ${sessionId}`)[0]!.id,
      );
    const [goodId, badId] = [await idOf(good.sessionId), await idOf(bad.sessionId)];
    const receiptUrl = (await sandboxLedger()).find((t) => t.transactionId === good.transactionId)!.ofdUrl!;
    expect(receiptUrl).toMatch(/^https:\/\//);

    const { page, errors } = await adminPage();
    const shot = screenshotter(page, "admin-receipts");
    await signIn(page, TEST_SECRETS.adminToken);
    await page.waitForURL(/\/admin$/);
    await page.goto(`${inject("miniappUrl")}/admin/payments?search=${withReceipt.id}`);
    const goodRow = page.locator(`tr[data-row-id="${goodId}"]`);
    await expect(goodRow.getByRole("link", { name: "receipt" }).getAttribute("href")).resolves.toBe(
      receiptUrl,
    );

    await page.goto(`${inject("miniappUrl")}/admin/payments`);
    await page.getByLabel("Without receipt").selectOption("true");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/without_receipt=true/);
    const badRow = page.locator(`tr[data-row-id="${badId}"]`);
    await expect.poll(() => text(badRow.getByTestId("missing-receipt"))).toBe("no receipt");
    await expect(page.locator(`tr[data-row-id="${goodId}"]`).count()).resolves.toBe(0);
    await shot("without-receipt");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a wrong token stays on the login page and sets no cookie; pages without a session go to login", async () => {
    const { page, errors } = await adminPage();
    const shot = screenshotter(page, "admin-login");
    await page.goto(`${inject("miniappUrl")}/admin/payments?status=success`);
    await page.waitForURL(/\/admin\/login\?next=/);
    await shot("redirected-to-login");

    await signIn(page, "not-the-admin-token", { stayOnPage: true });
    await page.waitForURL(/\/admin\/login\?next=/);
    await expect.poll(() => text(page.locator("main [role=alert]"))).toBe("That admin token is not valid.");
    await shot("wrong-token");
    expect(await browser.context.cookies()).toEqual([]);
    // Still not signed in.
    await page.goto(`${inject("miniappUrl")}/admin/payments?status=success`);
    expect(new URL(page.url()).pathname).toBe("/admin/login");

    await signIn(page, TEST_SECRETS.adminToken, { stayOnPage: true });
    // Back where it was going before the login page.
    await page.waitForURL(/\/admin\/payments\?status=success$/);
    const [cookie] = await browser.context.cookies();
    expect(cookie).toMatchObject({ name: "obuna_admin", httpOnly: true, sameSite: "Strict", secure: false });
    expect(cookie?.value).not.toContain(TEST_SECRETS.adminToken);
    expect(await page.content()).not.toContain(TEST_SECRETS.adminToken);

    const signedIn = await browser.context.cookies();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/admin\/login$/);
    await expect.poll(() => text(page.locator("main [role=status]"))).toBe("You are signed out.");
    expect(await browser.context.cookies()).toEqual([]);
    // The old cookie was ended at the gateway too: putting it back does not sign anyone in.
    await browser.context.addCookies(signedIn);
    await page.goto(`${inject("miniappUrl")}/admin/cards`);
    expect(new URL(page.url()).pathname).toBe("/admin/login");
    await page.goto(`${inject("miniappUrl")}/admin/cards`);
    expect(new URL(page.url()).pathname).toBe("/admin/login");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("inside Telegram, a user in ADMIN_TELEGRAM_IDS signs in with one tap; any other Telegram user is refused", async () => {
    const { page, errors } = await adminPage();
    const shot = screenshotter(page, "admin-telegram-login");
    const stranger = newUser("en");
    await page.goto(launchUrl("/admin/login", stranger));
    await page.getByRole("button", { name: "Sign in with Telegram" }).click();
    await page.waitForURL(/\/admin\/login\?next=/);
    await expect
      .poll(() => text(page.locator("main [role=alert]")))
      .toBe("This Telegram account is not an admin (ADMIN_TELEGRAM_IDS).");
    expect(await browser.context.cookies()).toEqual([]);
    await shot("not-an-admin");

    const adminUser = { id: TEST_SECRETS.adminTelegramId, first_name: "Admin", language_code: "en" };
    await page.goto(launchUrl("/admin/login", adminUser));
    await page.getByRole("button", { name: "Sign in with Telegram" }).waitFor();
    await shot("telegram-button");
    await page.getByRole("button", { name: "Sign in with Telegram" }).click();
    await page.waitForURL(/\/admin$/);
    await expect.poll(() => text(page.getByTestId("admin-actor"))).toBe(`tg:${adminUser.id}`);
    const [cookie] = await browser.context.cookies();
    expect(cookie).toMatchObject({ name: "obuna_admin", httpOnly: true, sameSite: "Strict" });
    await shot("signed-in");
    expect(errors).toEqual([]);
    await page.close();
    // Outside Telegram there is no initData, so no such button: the token form only. (A fresh tab:
    // like the real telegram-web-app.js, the stub keeps a launch in the tab's sessionStorage.)
    await browser.context.clearCookies();
    const outside = (await adminPage()).page;
    await outside.goto(`${inject("miniappUrl")}/admin/login`);
    await outside.getByLabel("Admin token").waitFor();
    expect(await outside.getByRole("button", { name: "Sign in with Telegram" }).count()).toBe(0);
    await outside.close();
  });

  it("refunds a payment made through the flow: sandbox ledger shows the reverse, the subscription loses that period", async () => {
    const user = newAdminTestUser();
    const paid = await payThroughGateway(user, { autoRenew: true });
    const before = await subscriptionOf(user.id);
    const [payment] = await db.client<{ id: number; period_start: Date; period_end: Date }[]>`
      select id, period_start, period_end from payments where session_id = ${paid.sessionId}`;
    if (!payment) throw new Error("no payment row");

    const { page, errors } = await adminPage();
    const shot = screenshotter(page, "admin-refund");
    await signIn(page, TEST_SECRETS.adminToken);
    await page.waitForURL(/\/admin$/);
    await page.getByTestId("tile-active-subscriptions").waitFor();
    await expect.poll(() => text(page.getByTestId("admin-actor"))).toBe("admin");
    await shot("dashboard");

    await page.getByRole("link", { name: "Payments", exact: true }).click();
    await page.getByLabel(/^Search/).fill(String(user.id));
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(new RegExp(`search=${user.id}`));
    const row = page.locator(`tr[data-row-id="${payment.id}"]`);
    await expect.poll(() => text(row)).toContain("success");
    await expect.poll(() => text(row)).toContain(`@${user.username}`);
    await expect.poll(() => text(page.getByTestId("page-range"))).toBe("1–1 of 1");
    await shot("payments-found");

    await row.getByRole("link", { name: "Refund" }).click();
    await page.waitForURL(/\/admin\/confirm\?/);
    await expect
      .poll(() => text(page.getByRole("heading", { level: 1 })))
      .toBe(`Refund payment #${payment.id}?`);
    await shot("refund-confirm");
    // Nothing happened yet.
    expect((await sandboxLedger()).find((t) => t.transactionId === paid.transactionId)?.reversed).toBe(false);

    await page.getByLabel("Reason (kept in the audit log)").fill("customer asked for a refund");
    await page.getByRole("button", { name: /^Confirm:/ }).click();
    await waitForNotice(page, /Refund payment/);
    expect(new URL(page.url()).pathname).toBe("/admin/payments");
    expect(page.url()).not.toContain("notice");
    await expect
      .poll(() => text(page.locator("main [role=status]")))
      .toBe(`Refund payment #${payment.id}: done.`);
    await expect.poll(() => text(row)).toContain("reversed");
    await expect.poll(() => text(row)).toContain("customer asked for a refund");
    await expect.poll(() => row.getByRole("link", { name: "Refund" }).count()).toBe(0);
    await shot("refunded");

    const ledger = (await sandboxLedger()).find((t) => t.transactionId === paid.transactionId);
    expect(ledger).toMatchObject({ reversed: true, state: "reversed" });
    const after = await subscriptionOf(user.id);
    const periodMs = new Date(payment.period_end).getTime() - new Date(payment.period_start).getTime();
    expect(after.end_date.getTime()).toBe(
      Math.max(before.end_date.getTime() - periodMs, before.start_date.getTime()),
    );
    expect(after.end_date.getTime()).toBeLessThan(before.end_date.getTime());
    expect(after.status).toBe("expired");

    // A second refund of the same payment: the gateway's message, shown as it is.
    await page.goto(
      `${inject("miniappUrl")}/admin/confirm?action=payment.refund&id=${payment.id}&return_to=/admin/payments`,
    );
    await page.getByLabel("Reason (kept in the audit log)").fill("double click");
    await page.getByRole("button", { name: /^Confirm:/ }).click();
    await page.locator("main [role=alert]").waitFor();
    expect(new URL(page.url()).pathname).toBe("/admin/confirm");
    expect(page.url()).not.toMatch(/error|reason|key=/);
    await expect
      .poll(() => text(page.locator("main [role=alert]")))
      .toBe("This payment was already refunded (INVALID_STATE)");
    expect(await page.getByLabel("Reason (kept in the audit log)").inputValue()).toBe("double click");
    await shot("refund-again-refused");

    await page.goto(
      `${inject("miniappUrl")}/admin/audit-log?entity_type=payment&entity_id=${payment.id}&action=payment.refunded`,
    );
    const audit = page.locator("tbody tr");
    await expect.poll(() => audit.count()).toBe(1);
    await expect.poll(() => text(audit)).toContain("admin");
    await expect.poll(() => text(audit)).toContain("customer asked for a refund");
    await shot("audit-log");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("deactivates a card: it shows inactive, the row is is_active=false and renewals skip the subscription", async () => {
    const user = newAdminTestUser();
    await payThroughGateway(user, { autoRenew: true });
    const subscription = await subscriptionOf(user.id);
    const [card] = await db.client<{ id: number }[]>`
      select c.id from bound_cards c join users u on u.id = c.user_id where u.telegram_id = ${user.id}`;
    if (!card) throw new Error("no bound card");
    expect(await renewalsWouldCharge(subscription.id, subscription.end_date)).toBe(true);

    const { page, errors } = await adminPage();
    const shot = screenshotter(page, "admin-card");
    await signIn(page, TEST_SECRETS.adminToken);
    await page.waitForURL(/\/admin$/);
    await page.goto(`${inject("miniappUrl")}/admin/cards?search=${user.username}`);
    const row = page.locator(`tr[data-row-id="${card.id}"]`);
    await expect.poll(() => text(row.getByTestId("card-state"))).toBe("active");
    await shot("card-active");

    // Going back from the confirmation page changes nothing.
    await row.getByRole("link", { name: "Deactivate" }).click();
    await page.getByRole("link", { name: "Back without changing anything" }).click();
    await expect.poll(() => text(row.getByTestId("card-state"))).toBe("active");

    await confirmAction(page, card.id, "Deactivate", "suspected fraud");
    await waitForNotice(page, /Deactivate card/);
    await expect.poll(() => text(row.getByTestId("card-state"))).toBe("inactive");
    await row.getByRole("link", { name: "Reactivate" }).waitFor();
    await shot("card-inactive");

    const [stored] = await db.client<
      { is_active: boolean }[]
    >`select is_active from bound_cards where id = ${card.id}`;
    expect(stored?.is_active).toBe(false);
    expect(await renewalsWouldCharge(subscription.id, subscription.end_date)).toBe(false);

    const [audit] = await db.client<{ actor: string; action: string; reason: string }[]>`
      select actor, action, reason from audit_log where entity_type = 'bound_card' and entity_id = ${String(card.id)}
      order by id desc limit 1`;
    expect(audit).toMatchObject({ actor: "admin", reason: "suspected fraud" });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("extends a subscription by a number of days and lists it everywhere", async () => {
    const user = newAdminTestUser();
    await payThroughGateway(user, { autoRenew: false });
    const before = await subscriptionOf(user.id);

    const { page, errors } = await adminPage();
    const shot = screenshotter(page, "admin-extend");
    await signIn(page, TEST_SECRETS.adminToken);
    await page.waitForURL(/\/admin$/);
    for (const path of ["payment-sessions", "users", "subscriptions"]) {
      await page.goto(`${inject("miniappUrl")}/admin/${path}?search=${user.id}`);
      await expect.poll(() => text(page.getByTestId("page-range"))).toBe("1–1 of 1");
      await expect.poll(() => text(page.locator("tbody"))).toContain(String(user.id));
      await shot(path);
    }
    await page.locator(`tr[data-row-id="${before.id}"]`).getByRole("link", { name: "Extend" }).click();
    await page.getByLabel("Days to add").fill("7");
    await page.getByLabel("Reason (kept in the audit log)").fill("service outage compensation");
    await page.getByRole("button", { name: /^Confirm:/ }).click();
    await waitForNotice(page, /Extend subscription/);
    await shot("extended");
    const after = await subscriptionOf(user.id);
    expect(after.end_date.getTime() - before.end_date.getTime()).toBe(7 * 24 * 3600 * 1000);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("reactivates, then removes a card at ATMOS, and cancels a subscription; the dashboard counts match the database", async () => {
    const user = newAdminTestUser();
    await payThroughGateway(user, { autoRenew: true });
    const subscription = await subscriptionOf(user.id);
    const [card] = await db.client<{ id: number; card_ref: string }[]>`
      select c.id, c.card_ref from bound_cards c join users u on u.id = c.user_id where u.telegram_id = ${user.id}`;
    if (!card) throw new Error("no bound card");

    const { page, errors } = await adminPage();
    const shot = screenshotter(page, "admin-remove-cancel");
    await signIn(page, TEST_SECRETS.adminToken);
    await page.waitForURL(/\/admin$/);
    const [counts] = await db.client<{ active: string }[]>`
      select count(*)::text as active from subscriptions where status = 'active'`;
    await expect
      .poll(() => text(page.getByTestId("tile-active-subscriptions").locator("span").nth(1)))
      .toBe(counts?.active);

    await page.goto(`${inject("miniappUrl")}/admin/cards?search=${user.id}`);
    const row = page.locator(`tr[data-row-id="${card.id}"]`);
    await confirmAction(page, card.id, "Deactivate", "checking with the bank");
    await waitForNotice(page, /Deactivate card/);
    await confirmAction(page, card.id, "Reactivate", "bank confirmed the card");
    await waitForNotice(page, /Reactivate card/);
    await expect.poll(() => text(row.getByTestId("card-state"))).toBe("active");

    await confirmAction(page, card.id, "Remove at ATMOS", "user asked to forget the card");
    await waitForNotice(page, /Remove card/);
    await expect.poll(() => text(row.getByTestId("card-state"))).toBe("removed");
    await expect.poll(() => row.getByRole("link").count()).toBe(0);
    await shot("card-removed");
    const [stored] = await db.client<{ is_active: boolean; removed_at: Date | null }[]>`
      select is_active, removed_at from bound_cards where id = ${card.id}`;
    expect(stored?.is_active).toBe(false);
    expect(stored?.removed_at).not.toBeNull();

    await page.goto(`${inject("miniappUrl")}/admin/subscriptions?search=${user.id}`);
    await confirmAction(page, subscription.id, "Cancel", "chargeback dispute");
    await waitForNotice(page, /Cancel subscription/);
    await expect.poll(() => text(page.locator(`tr[data-row-id="${subscription.id}"]`))).toContain("canceled");
    await shot("subscription-cancelled");
    expect((await subscriptionOf(user.id)).status).toBe("canceled");

    await page.goto(`${inject("miniappUrl")}/admin/audit-log?entity_type=bound_card&entity_id=${card.id}`);
    await expect.poll(() => page.locator("tbody tr").count()).toBe(3);
    for (const cell of await page.locator("tbody tr").all()) expect(await text(cell)).toContain("admin");
    await shot("audit-log");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("signed events: a payment's premium.started delivery shows with its attempts; Resend makes it owed again (audited)", async () => {
    const user = newAdminTestUser();
    await payThroughGateway(user, { autoRenew: false });
    const [event] = await db.client<{ id: string; type: string }[]>`
      select id, type from premium_events where telegram_id = ${user.id}`;
    expect(event?.type).toBe("premium.started");
    // What the renewals worker leaves after an endpoint kept answering 500.
    const [delivery] = await db.client<{ id: string }[]>`
      insert into premium_event_deliveries (event_id, endpoint, status, attempts, last_status_code, last_error)
      values (${event!.id}, 'https://host.example/obuna/events', 'failed', 1, 500, 'endpoint answered 500')
      returning id`;
    const deliveryId = Number(delivery!.id);
    await db.client`
      insert into premium_event_attempts (delivery_id, generation, status_code, error, duration_ms)
      values (${deliveryId}, 1, 500, 'endpoint answered 500', 42)`;

    const { page, errors } = await adminPage();
    const shot = screenshotter(page, "admin-events");
    await signIn(page, TEST_SECRETS.adminToken);
    await page.waitForURL(/\/admin$/);
    await page.goto(`${inject("miniappUrl")}/admin/events?telegram_id=${user.id}`);
    const row = page.locator(`tr[data-row-id="${deliveryId}"]`);
    await expect.poll(() => text(row)).toContain("premium.started");
    expect(await text(row)).toContain("failed");
    expect(await text(row.getByTestId("last-answer"))).toBe("500: endpoint answered 500");
    expect(await text(row)).toContain("42 ms");
    await shot("delivery-log");

    await confirmAction(page, deliveryId, "Resend", "host was down during the outage");
    await waitForNotice(page, /Resend event/);
    await expect.poll(() => text(row)).toContain("pending");
    await shot("resent");
    const [stored] = await db.client<{ status: string; generation: number }[]>`
      select status, generation from premium_event_deliveries where id = ${deliveryId}`;
    expect(stored).toEqual({ status: "pending", generation: 2 });
    const [audit] = await db.client<{ actor: string; action: string; reason: string }[]>`
      select actor, action, reason from audit_log
      where entity_type = 'event_delivery' and entity_id = ${String(deliveryId)}`;
    expect(audit).toEqual({
      actor: "admin",
      action: "event.resent",
      reason: "host was down during the outage",
    });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("plans page: create, edit and change the price through the forms; each audited; a refusal keeps the form", async () => {
    const { page, errors } = await adminPage();
    const shot = screenshotter(page, "admin-plans");
    await signIn(page, TEST_SECRETS.adminToken);
    await page.waitForURL(/\/admin$/);
    await page.goto(`${inject("miniappUrl")}/admin/plans`);
    await expect.poll(() => text(page.getByTestId("notice-days"))).toMatch(/^\d+ days$/);
    await shot("list");

    const slug = `ui-${Date.now().toString(36)}`;
    await page.getByRole("link", { name: "New plan" }).click();
    await page.waitForURL(/\/admin\/plan\?mode=create/);
    await page.getByLabel("Slug").fill(slug);
    await page.getByLabel("Name (uz)").fill("Sinov tarif");
    await page.getByLabel("Name (ru)").fill("Тестовый тариф");
    await page.getByLabel("Name (en)").fill("Test plan");
    await page.getByLabel("Price (so'm)").fill("12 000");
    await page.getByLabel("Period (days)").fill("30");
    await page.getByLabel("Sort order").fill("50");
    // Not sold while it is being tested (other tests list the active plans).
    await page.getByRole("checkbox").uncheck();
    await page.getByLabel("Reason (kept in the audit log)").fill("new plan for the browser test");
    await shot("create-form");
    await page.getByRole("button", { name: "Create the plan" }).click();
    await page.waitForURL(/\/admin\/plans$/);
    await page
      .locator("main [role=status]")
      .filter({ hasText: /New plan #\d+/ })
      .waitFor();
    const [created] = await db.client<
      { id: number; price: string; is_active: boolean; duration_days: number }[]
    >`
      select id, price::text, is_active, duration_days from plans where slug = ${slug}`;
    expect(created).toMatchObject({ price: "1200000", is_active: false, duration_days: 30 });
    const planId = Number(created!.id);
    const row = page.locator(`tr[data-row-id="${planId}"]`);
    await expect.poll(() => text(row.getByTestId("plan-price"))).toBe("12 000 so'm");
    // Fiscal codes left empty: the placeholders, flagged in the list.
    await expect.poll(() => text(row.getByTestId("plan-fiscal-placeholder"))).toMatch(/placeholder/);

    await row.getByRole("link", { name: "Edit" }).click();
    await page.waitForURL(/\/admin\/plan\?mode=edit/);
    await expect(page.getByLabel("Name (en)").inputValue()).resolves.toBe("Test plan");
    await page.getByLabel("Name (en)").fill("Test plan, 45 days");
    await page.getByLabel("Period (days)").fill("45");
    await page.getByLabel("IKPU/MXIK code (17 digits)").fill("10305008002000000");
    await page.getByLabel("Package code").fill("1501181");
    await page.getByLabel("VAT (%)").fill("0");
    await page.getByLabel("Reason (kept in the audit log)").fill("longer period");
    await page.getByRole("button", { name: "Save the changes" }).click();
    await page.waitForURL(/\/admin\/plans$/);
    await page
      .locator("main [role=status]")
      .filter({ hasText: /Edit plan/ })
      .waitFor();
    await expect.poll(() => text(row.getByTestId("plan-fiscal"))).toMatch(/10305008002000000.*1501181.*0%/s);
    await expect(row.getByTestId("plan-fiscal-placeholder").count()).resolves.toBe(0);

    await row.getByRole("link", { name: "Change price" }).click();
    await page.waitForURL(/\/admin\/plan\?mode=price/);
    await page.getByLabel("New price (so'm)").fill("15000");
    await page.getByLabel("Reason (kept in the audit log)").fill("costs went up");
    await shot("price-form");
    await page.getByRole("button", { name: "Change the price" }).click();
    await page.waitForURL(/\/admin\/plans$/);
    await page
      .locator("main [role=status]")
      .filter({ hasText: /Change price/ })
      .waitFor();
    await expect.poll(() => text(row.getByTestId("plan-price"))).toBe("15 000 so'm");

    // The same price again: the gateway refuses; back on the form with its message and the values as typed.
    await row.getByRole("link", { name: "Change price" }).click();
    await page.getByLabel("New price (so'm)").fill("15000");
    await page.getByLabel("Reason (kept in the audit log)").fill("oops, same price");
    await page.getByRole("button", { name: "Change the price" }).click();
    await page.waitForURL(/\/admin\/plan\?mode=price/);
    await expect
      .poll(() => text(page.locator("main [role=alert]")))
      .toMatch(/already costs .*\(INVALID_STATE\)/);
    await expect(page.getByLabel("Reason (kept in the audit log)").inputValue()).resolves.toBe(
      "oops, same price",
    );
    await shot("price-refused");

    const [stored] = await db.client<
      {
        price: string;
        duration_days: number;
        name_en: string;
        ikpu_code: string;
        package_code: string;
        vat_percent: number;
      }[]
    >`
      select price::text, duration_days, name_en, ikpu_code, package_code, vat_percent from plans where id = ${planId}`;
    expect(stored).toEqual({
      price: "1500000",
      duration_days: 45,
      name_en: "Test plan, 45 days",
      ikpu_code: "10305008002000000",
      package_code: "1501181",
      vat_percent: 0,
    });
    const audit = await db.client<{ action: string; actor: string; reason: string }[]>`
      select action, actor, reason from audit_log where entity_type = 'plan' and entity_id = ${String(planId)} order by id`;
    const [edit] = await db.client<{ details: { changes: Record<string, unknown> } }[]>`
      select details from audit_log where entity_type = 'plan' and entity_id = ${String(planId)} and action = 'plan.updated'`;
    expect(edit!.details.changes).toMatchObject({
      ikpu_code: { from: "00000000000000000", to: "10305008002000000" },
      package_code: { from: "0000000", to: "1501181" },
      vat_percent: { from: 12, to: 0 },
    });
    expect(audit).toEqual([
      { action: "plan.created", actor: "admin", reason: "new plan for the browser test" },
      { action: "plan.updated", actor: "admin", reason: "longer period" },
      { action: "plan.price_changed", actor: "admin", reason: "costs went up" },
    ]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("dashboard draws its charts from the gateway series; the panel switches to Russian and back", async () => {
    await payThroughGateway(newAdminTestUser(), { autoRenew: false });
    const { page, errors } = await adminPage();
    const shot = screenshotter(page, "admin-dashboard-charts");
    await signIn(page, TEST_SECRETS.adminToken);
    await page.waitForURL(/\/admin$/);
    const revenue = page.getByTestId("chart-revenue");
    await revenue.locator("svg").waitFor();
    expect(await revenue.locator("rect").count()).toBe(30);
    expect(await page.getByTestId("chart-active").locator("circle").count()).toBe(30);
    expect(await page.getByTestId("chart-renewal-rate").locator("circle").count()).toBe(30);
    expect(await page.getByTestId("chart-recoveries").locator("rect").count()).toBe(30);
    // Today's revenue bar equals the database's own sum of today's successful payments (Tashkent day).
    const [today] = await db.client<{ day: string; sum: string }[]>`
      select to_char((now() at time zone 'Asia/Tashkent')::date, 'YYYY-MM-DD') as day,
             coalesce(sum(amount), 0)::text as sum from payments
      where status = 'success' and (created_at at time zone 'Asia/Tashkent')::date = (now() at time zone 'Asia/Tashkent')::date`;
    expect(Number(today!.sum)).toBeGreaterThan(0);
    await expect(revenue.locator(`rect[data-date="${today!.day}"]`).getAttribute("data-value")).resolves.toBe(
      today!.sum,
    );
    await shot("charts");

    await page.getByTestId("admin-lang").getByRole("button", { name: "ru" }).click();
    await page.waitForURL(/\/admin$/);
    await expect.poll(() => text(page.locator("main h1"))).toBe("Обзор");
    await expect(page.getByRole("link", { name: "Тарифы" }).count()).resolves.toBe(1);
    await expect
      .poll(() => text(page.getByTestId("chart-revenue").locator("figcaption")))
      .toBe("Выручка по дням");
    await shot("russian");
    await page.getByTestId("admin-lang").getByRole("button", { name: "en" }).click();
    await expect.poll(() => text(page.locator("main h1"))).toBe("Dashboard");
    expect(errors).toEqual([]);
    await page.close();
  });
});
