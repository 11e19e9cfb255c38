/**
 * Fiscal receipts of first payments: the apply is the fiscal apply with the plan's receipt line, the
 * receipt link is stored on every success path, and a charge without one shows in admin and reconcile.
 */
import { createAtmosClient } from "@obuna/atmos";
import { payments, plans } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchSandboxLedger, formatReport, reconcile } from "../src/admin/reconcile";
import { createApp } from "../src/app";
import { STORE_ID } from "./constants";
import {
  apply,
  call,
  type Harness,
  type Json,
  prepareSession,
  sandboxRail,
  startHarness,
  testGatewayConfig,
} from "./harness";

const ADMIN_TOKEN = "gateway-test-admin-token-0123456789";
const IKPU = "10305008002000000";
const PACKAGE = "1501181";

let h: Harness;
let adminApp: ReturnType<typeof createApp>;
const atmos = () =>
  createAtmosClient({
    baseUrl: h.sandbox.url,
    consumerKey: "sandbox_consumer_key",
    consumerSecret: "sandbox_consumer_secret",
    storeId: STORE_ID,
    timeoutMs: 5_000,
    retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
  });

beforeAll(async () => {
  h = await startHarness();
  adminApp = createApp(
    {
      db: h.db.db,
      ...sandboxRail(atmos()),
      notificationsQueue: h.queue,
      redis: h.redis,
      logger: pino({ level: "silent" }),
      clock: () => new Date(),
      config: testGatewayConfig(),
    },
    { admin: { adminToken: ADMIN_TOKEN, telegramIds: [424242], sessionTtlS: 3600 } },
  );
  // The operator set the monthly plan's fiscal codes (the seed has placeholders).
  await h.db.db
    .update(plans)
    .set({ ikpuCode: IKPU, packageCode: PACKAGE, vatPercent: 12 })
    .where(eq(plans.slug, "monthly"));
});
afterAll(async () => {
  await h?.db.db
    .update(plans)
    .set({ ikpuCode: "00000000000000000", packageCode: "0000000", vatPercent: 12 })
    .where(eq(plans.slug, "monthly"));
  await h?.close();
});

async function adminGet(path: string): Promise<{ status: number; body: Json }> {
  const res = await adminApp.request(path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return { status: res.status, body: await res.json() };
}

async function paymentOf(sessionId: string) {
  const [row] = await h.db.db.select().from(payments).where(eq(payments.sessionId, sessionId));
  return row!;
}

function ledgerOf(transactionId: number) {
  return h.sandbox.ledger().find((t) => t.transactionId === transactionId)!;
}

describe("fiscal receipts of first payments", () => {
  it("the apply sends the plan's receipt line; the receipt link is stored and in the user's history", async () => {
    const prepared = await prepareSession(h, { card: "humo1" });
    const res = await apply(h, prepared);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.status).toBe("completed");

    const seen = ledgerOf(prepared.transactionId);
    expect(h.sandbox.requests().some((r) => r.path === "/merchant/pay/confirm-with-ofd-list")).toBe(true);
    expect(seen.ofdItems).toEqual([
      {
        ofdCode: IKPU,
        name: "Obuna Premium: 1 Oylik",
        amount: prepared.amount,
        quantity: 1,
        packageCode: PACKAGE,
        vatPercent: 12,
      },
    ]);
    const payment = await paymentOf(prepared.sessionId);
    expect(payment.receiptUrl).toBe(seen.ofdUrl);
    expect(payment.receiptUrl).toMatch(/^https:\/\//);

    const history = await call(h, "GET", `/api/v1/user/${prepared.telegramId}/payments`, {
      auth: prepared.auth,
    });
    expect(history.status).toBe(200);
    expect(history.body.data.payments[0]).toMatchObject({ id: payment.id, receipt_url: seen.ofdUrl });

    const listed = await adminGet(`/api/v1/admin/payments?search=${prepared.telegramId}`);
    expect(listed.body.data.items[0]).toMatchObject({ receipt_url: seen.ofdUrl, missing_receipt: false });
  });

  it("a lost apply answer resolved later through get stores the receipt get gives", async () => {
    const prepared = await prepareSession(h, { card: "humo2" });
    h.sandbox.configure({
      loseNextApply: 1,
      lostApplyMode: "reset",
      faultPath: "/merchant/pay/get",
      failNext: 10,
    });
    const res = await apply(h, prepared);
    expect(res.body.data.status).toBe("processing");
    expect((await paymentOf(prepared.sessionId)).status).toBe("unknown");
    h.sandbox.configure({ failNext: 0, faultPath: null });

    // The GET re-check asks ATMOS and finishes the session.
    const session = await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, {
      auth: prepared.auth,
    });
    expect(session.body.data.status).toBe("completed");
    const payment = await paymentOf(prepared.sessionId);
    expect(payment.status).toBe("success");
    expect(payment.receiptUrl).toBe(ledgerOf(prepared.transactionId).ofdUrl);
    expect(payment.receiptUrl).toMatch(/^https:\/\//);
  });

  it("a lost apply answer whose get has no receipt: success, flagged as without receipt", async () => {
    const prepared = await prepareSession(h, { card: "humo3" });
    h.sandbox.configure({ loseNextApply: 1, lostApplyMode: "reset", ofdUrlOnGet: false });
    try {
      const res = await apply(h, prepared);
      expect(res.body.data.status).toBe("completed");
    } finally {
      h.sandbox.configure({ ofdUrlOnGet: true });
    }
    const payment = await paymentOf(prepared.sessionId);
    expect(payment).toMatchObject({ status: "success", receiptUrl: null });
    const flagged = await adminGet("/api/v1/admin/payments?without_receipt=true");
    expect(flagged.body.data.items.map((p: Json) => p.id)).toContain(payment.id);
    // get now gives the link: reconcile names it so the operator can record it.
    const report = await reconcile(
      { db: h.db.db, provider: sandboxRail(atmos()).provider, storeId: STORE_ID },
      { since: payment.createdAt },
    );
    expect(report.discrepancies.find((d) => d.paymentId === payment.id)).toMatchObject({
      kind: "missing_receipt",
      atmos: `receipt ${ledgerOf(prepared.transactionId).ofdUrl}`,
    });
  });

  it("a charge ATMOS made without a receipt shows in the admin list (flag + filter) and in reconcile", async () => {
    const since = new Date();
    const withReceipt = await prepareSession(h, { card: "humo4" });
    expect((await apply(h, withReceipt)).body.data.status).toBe("completed");
    const prepared = await prepareSession(h, { card: "uzcard1" });
    h.sandbox.configure({ receiptlessNext: 1 });
    const res = await apply(h, prepared);
    expect(res.status).toBe(200);
    expect(res.body.data.status).toBe("completed");
    const payment = await paymentOf(prepared.sessionId);
    expect(payment).toMatchObject({ status: "success", receiptUrl: null });
    const good = await paymentOf(withReceipt.sessionId);

    const listed = await adminGet(`/api/v1/admin/payments?search=${prepared.telegramId}`);
    expect(listed.body.data.items[0]).toMatchObject({
      id: payment.id,
      receipt_url: null,
      missing_receipt: true,
    });
    const flagged = await adminGet("/api/v1/admin/payments?without_receipt=true");
    const flaggedIds = flagged.body.data.items.map((p: Json) => p.id);
    expect(flaggedIds).toContain(payment.id);
    expect(flaggedIds).not.toContain(good.id);
    expect(flagged.body.data.items.every((p: Json) => p.missing_receipt && p.status === "success")).toBe(
      true,
    );
    const others = await adminGet("/api/v1/admin/payments?without_receipt=false");
    expect(others.body.data.items.map((p: Json) => p.id)).toContain(good.id);
    expect(others.body.data.items.map((p: Json) => p.id)).not.toContain(payment.id);
    expect((await adminGet("/api/v1/admin/payments?without_receipt=maybe")).status).toBe(400);

    const report = await reconcile(
      {
        db: h.db.db,
        provider: sandboxRail(atmos()).provider,
        storeId: STORE_ID,
        ledger: () => fetchSandboxLedger(h.sandbox.url),
      },
      { since },
    );
    expect(report.discrepancies, formatReport(report)).toEqual([
      expect.objectContaining({
        kind: "missing_receipt",
        paymentId: payment.id,
        transactionId: prepared.transactionId,
        atmos: "no receipt",
      }),
    ]);
    expect(formatReport(report)).toContain("without receipt: 1");
  });

  it("reconcile notes plans still on the placeholder fiscal codes", async () => {
    const report = await reconcile(
      { db: h.db.db, provider: sandboxRail(atmos()).provider, storeId: STORE_ID },
      { since: new Date() },
    );
    expect(report.notes.join("\n")).toContain("plan quarterly still has the placeholder IKPU/package code");
    expect(report.notes.join("\n")).not.toContain("plan monthly");
  });
});
