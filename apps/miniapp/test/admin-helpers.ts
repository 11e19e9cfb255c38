import { randomUUID } from "node:crypto";
import { SANDBOX_CARDS, SANDBOX_OTP } from "@obuna/atmos/sandbox";
import { signInitData } from "@obuna/contracts/testing";
import type { Page } from "playwright-core";
import { inject } from "vitest";
import { TEST_SECRETS } from "./secrets";

/** A Telegram user for admin tests; ids are random so runs do not collide. */
export interface AdminTestUser {
  id: number;
  first_name: string;
  username: string;
  language_code: string;
}

let nextId = 800_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
export function newAdminTestUser(): AdminTestUser {
  nextId += 1;
  return { id: nextId, first_name: "Admin Test", username: `adm_${nextId}`, language_code: "en" };
}

async function gateway<T>(path: string, init: { method?: string; auth: string; body?: unknown }): Promise<T> {
  const response = await fetch(`${inject("gatewayUrl")}/api/v1/${path}`, {
    method: init.method ?? "POST",
    headers: {
      authorization: init.auth,
      "content-type": "application/json",
      "idempotency-key": randomUUID(),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const body = (await response.json()) as { success: boolean; data: T };
  if (!response.ok || !body.success) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body.data;
}

/**
 * The real payment flow through the gateway's endpoints, as the bot and the checkout page call them:
 * create-link (internal token) → checkout/create → pre-apply (sandbox card) → apply (OTP), then waits
 * until the session is completed.
 */
export async function payThroughGateway(
  user: AdminTestUser,
  options: { autoRenew: boolean; card?: { pan: string; expiry: string } } = { autoRenew: true },
): Promise<{ sessionId: string; transactionId: number; paymentId: number }> {
  const card = options.card ?? SANDBOX_CARDS.humo1;
  const link = await gateway<{ session_id: string }>("payment/create-link", {
    auth: `Bearer ${TEST_SECRETS.internalApiToken}`,
    body: {
      telegram_id: user.id,
      plan_slug: "monthly",
      username: user.username,
      first_name: user.first_name,
      language_code: user.language_code,
    },
  });
  const tma = `tma ${signInitData(user, TEST_SECRETS.botToken)}`;
  const session = await gateway<{ amount: number }>(`payment/session/${link.session_id}`, {
    method: "GET",
    auth: tma,
  });
  const created = await gateway<{ transaction_id: number }>("checkout/create", {
    auth: tma,
    body: { session_id: link.session_id, amount: session.amount, auto_renew: options.autoRenew },
  });
  await gateway("checkout/pre-apply", {
    auth: tma,
    body: {
      session_id: link.session_id,
      transaction_id: created.transaction_id,
      card_number: card.pan,
      expiry: card.expiry,
    },
  });
  let applied = await gateway<{ status: string; payment_id: number | null }>("checkout/apply", {
    auth: tma,
    body: { session_id: link.session_id, transaction_id: created.transaction_id, otp: SANDBOX_OTP },
  });
  for (let i = 0; applied.status !== "completed" && i < 60; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const current = await gateway<{ status: string }>(`payment/session/${link.session_id}`, {
      method: "GET",
      auth: tma,
    });
    if (current.status === "failed" || current.status === "expired")
      throw new Error(`payment ${current.status}`);
    if (current.status === "completed") applied = { status: "completed", payment_id: applied.payment_id };
  }
  if (applied.status !== "completed") throw new Error("payment did not complete");
  return {
    sessionId: link.session_id,
    transactionId: created.transaction_id,
    paymentId: applied.payment_id ?? -1,
  };
}

export interface LedgerEntry {
  transactionId: number;
  state: string;
  amount: number;
  reversed: boolean;
  reversedAt: string | null;
  ofdUrl: string | null;
}

/** The ATMOS sandbox's own record of transactions (`GET /_sandbox/ledger`). */
/** Changes the shared sandbox's fault knobs over its control endpoint (e.g. `receiptlessNext`). */
export async function configureSandbox(patch: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${inject("sandboxUrl")}/_sandbox/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(patch),
  });
  if (!res.ok) throw new Error(`sandbox config ${res.status}`);
}

export async function sandboxLedger(): Promise<LedgerEntry[]> {
  const response = await fetch(`${inject("sandboxUrl")}/_sandbox/ledger`);
  return ((await response.json()) as { transactions: LedgerEntry[] }).transactions;
}

/** Signs in through the login form. */
export async function signIn(
  page: Page,
  token: string,
  options: { stayOnPage?: boolean } = {},
): Promise<void> {
  if (!options.stayOnPage) await page.goto(`${inject("miniappUrl")}/admin/login`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/**
 * After "Confirm": waits until the action has returned to a list page and its notice (from the server's
 * flash cookie, not the URL) says `pattern`.
 */
export async function waitForNotice(page: Page, pattern: RegExp): Promise<void> {
  await page.waitForURL((url) => url.pathname !== "/admin/confirm" && !url.pathname.startsWith("/api/"));
  await page.locator("main [role=status]").filter({ hasText: pattern }).waitFor();
}

/** Opens a row's action, gives the reason, confirms; resolves on the page the action returned to. */
export async function confirmAction(
  page: Page,
  rowId: number,
  linkName: string,
  reason: string,
): Promise<void> {
  await page.locator(`tr[data-row-id="${rowId}"]`).getByRole("link", { name: linkName }).click();
  await page.waitForURL(/\/admin\/confirm\?/);
  await page.getByLabel("Reason (kept in the audit log)").fill(reason);
  await page.getByRole("button", { name: /^Confirm:/ }).click();
}
