/**
 * ATMOS outcomes on the first-payment path: a transaction reversed after a lost apply answer is a
 * failure everywhere (apply, GET session, the maintenance loop, reconcile), and an unrecognised result
 * code on apply is an unknown outcome (get-transaction), never a final decline.
 */
import { type AtmosClient, createAtmosClient } from "@obuna/atmos";
import { notificationOutbox, paymentSessions, payments, subscriptions, users } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recheckStuckSessions } from "../src/admin/maintenance";
import { fetchSandboxLedger, reconcile } from "../src/admin/reconcile";
import { createMetrics } from "../src/metrics";
import { STORE_ID } from "./constants";
import {
  apply,
  call,
  type Harness,
  prepareSession,
  SANDBOX_OTP,
  type SandboxCardName,
  sandboxRail,
  startHarness,
  testGatewayConfig,
} from "./harness";

let h: Harness;
let atmos: AtmosClient;
const MINUTE = 60_000;

beforeAll(async () => {
  h = await startHarness();
  atmos = createAtmosClient({
    baseUrl: h.sandbox.url,
    consumerKey: "sandbox_consumer_key",
    consumerSecret: "sandbox_consumer_secret",
    storeId: STORE_ID,
    retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
  });
});
afterAll(async () => {
  await h?.close();
});

function maintenanceDeps(): Parameters<typeof recheckStuckSessions>[0] {
  return {
    db: h.db.db,
    ...sandboxRail(atmos),
    notificationsQueue: h.queue,
    redis: h.redis,
    logger: pino({ level: "silent" }),
    clock: () => new Date(),
    metrics: createMetrics(),
    config: testGatewayConfig(),
  };
}

/** What the user got for a session: its status, its payments, subscriptions, role, success messages. */
async function grantedFor(sessionId: string) {
  const [session] = await h.db.db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId));
  const rows = await h.db.db.select().from(payments).where(eq(payments.sessionId, sessionId));
  const subs = await h.db.db.select().from(subscriptions).where(eq(subscriptions.userId, session!.userId));
  const [user] = await h.db.db.select().from(users).where(eq(users.id, session!.userId));
  const messages = await h.db.db
    .select()
    .from(notificationOutbox)
    .where(eq(notificationOutbox.kind, "payment_succeeded"));
  return {
    session: session!.status,
    failureReason: session!.failureReason,
    payments: rows.map((r) => r.status),
    subscriptions: subs.length,
    role: user!.role,
    successMessages: messages.filter((m) => (m.payload as { userId?: number }).userId === user!.id).length,
  };
}

const NOTHING_GRANTED = {
  session: "failed",
  failureReason: "transaction_reversed",
  payments: ["failed"],
  subscriptions: 0,
  role: "user",
  successMessages: 0,
};

/** Apply whose charge happened but whose answer was lost, with ATMOS `get` down too: `unknown`. */
async function lostApply(card: SandboxCardName) {
  const prepared = await prepareSession(h, { card });
  h.sandbox.configure({
    loseNextApply: 1,
    lostApplyMode: "reset",
    faultPath: "/merchant/pay/get",
    failNext: 10,
  });
  const res = await apply(h, prepared);
  h.sandbox.configure({ failNext: 0, faultPath: null });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.data.status).toBe("processing");
  const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
  expect(payment!.status).toBe("unknown");
  expect(h.sandbox.ledger().find((t) => t.transactionId === prepared.transactionId)?.state).toBe("confirmed");
  return prepared;
}

describe("reversed is not confirmed", () => {
  it("GET session: apply answer lost, then ATMOS reversed the charge → failed, no subscription, no premium", async () => {
    const prepared = await lostApply("humo1");
    expect(h.sandbox.reverseTransaction(prepared.transactionId)).toBe("reversed");
    const polled = await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, {
      auth: prepared.auth,
    });
    expect(polled.status, JSON.stringify(polled.body)).toBe(200);
    expect(polled.body.data).toMatchObject({ status: "failed", subscription: null });
    expect(await grantedFor(prepared.sessionId)).toEqual(NOTHING_GRANTED);
    // A retried apply answers from the stored failure and sends nothing to ATMOS.
    const applies = h.sandbox
      .requests()
      .filter((r) => r.path === "/merchant/pay/confirm-with-ofd-list").length;
    expect((await apply(h, prepared)).body.error.code).toBe("SESSION_FAILED");
    expect(h.sandbox.requests().filter((r) => r.path === "/merchant/pay/confirm-with-ofd-list").length).toBe(
      applies,
    );
  });

  it("apply: the answer never comes, ATMOS reverses meanwhile → the apply ends failed, nothing granted", async () => {
    const prepared = await prepareSession(h, { card: "humo2" });
    h.sandbox.configure({ loseNextApply: 1, lostApplyMode: "hang" });
    const pending = apply(h, prepared);
    // The charge is confirmed at ATMOS while our apply waits for an answer; then ATMOS reverses it.
    for (let i = 0; i < 200; i++) {
      if (h.sandbox.reverseTransaction(prepared.transactionId) === "reversed") break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const res = await pending;
    expect(res.status, JSON.stringify(res.body)).toBe(402);
    expect(res.body.error.code).toBe("CARD_DECLINED");
    expect(await grantedFor(prepared.sessionId)).toEqual(NOTHING_GRANTED);
  });

  it("the maintenance loop: a stuck session whose charge ATMOS reversed ends failed, nothing granted", async () => {
    const prepared = await lostApply("humo3");
    h.sandbox.reverseTransaction(prepared.transactionId);
    await h.db.db
      .update(paymentSessions)
      .set({ updatedAt: new Date(Date.now() - 6 * MINUTE) })
      .where(eq(paymentSessions.id, prepared.sessionId));
    const results = await recheckStuckSessions(maintenanceDeps());
    expect(results).toEqual([{ sessionId: prepared.sessionId, outcome: "failed" }]);
    expect(await grantedFor(prepared.sessionId)).toEqual(NOTHING_GRANTED);
  });

  it("reconcile: a reversed charge is never reported as paid; still-unknown ones are reported as unresolved", async () => {
    const since = new Date();
    // settled as failed by the gateway: agrees with ATMOS (the money went back)
    const settled = await lostApply("uzcard1");
    h.sandbox.reverseTransaction(settled.transactionId);
    await call(h, "GET", `/api/v1/payment/session/${settled.sessionId}`, { auth: settled.auth });
    // not re-checked yet: still `unknown` here, reversed there
    const open = await lostApply("uzcard2");
    h.sandbox.reverseTransaction(open.transactionId);
    const report = await reconcile(
      {
        db: h.db.db,
        provider: sandboxRail(atmos).provider,
        storeId: STORE_ID,
        ledger: () => fetchSandboxLedger(h.sandbox.url),
      },
      { since, unresolvedAfterMs: 0 },
    );
    expect(report.discrepancies.filter((d) => d.transactionId === settled.transactionId)).toEqual([]);
    const openFindings = report.discrepancies.filter((d) => d.transactionId === open.transactionId);
    expect(openFindings.map((d) => d.kind)).toEqual(["unresolved_outcome"]);
    expect(openFindings[0]!.message).toMatch(/reversed it: not paid/);
    expect(report.discrepancies.some((d) => d.kind === "lost_payment")).toBe(false);
    expect((await grantedFor(open.sessionId)).subscriptions).toBe(0);
  });
});

describe("unrecognised result code on apply", () => {
  it("the charge went through: get-transaction finds it, the session completes (not a decline)", async () => {
    const prepared = await prepareSession(h, { card: "humo1" });
    h.sandbox.configure({
      faultPath: "/merchant/pay/confirm-with-ofd-list",
      unrecognisedCodeNext: 1,
      unrecognisedCodeMode: "after",
    });
    const res = await apply(h, prepared);
    h.sandbox.configure({ faultPath: null, unrecognisedCodeNext: 0 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.status).toBe("completed");
    const rows = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(rows.map((r) => r.status)).toEqual(["success"]);
    const gets = h.sandbox.requests().filter((r) => r.path === "/merchant/pay/get");
    expect(gets.length).toBeGreaterThan(0);
  });

  it("nothing is known: the outcome is recorded `unknown` (session processing), never failed", async () => {
    const prepared = await prepareSession(h, { card: "humo2" });
    h.sandbox.configure({
      faultPath: "/merchant/pay/confirm-with-ofd-list",
      // The apply and its one resend (get shows the transaction still pre-applied after the first).
      unrecognisedCodeNext: 2,
      unrecognisedCodeMode: "before",
    });
    const getsBefore = h.sandbox.requests().filter((r) => r.path === "/merchant/pay/get").length;
    const res = await apply(h, prepared, SANDBOX_OTP);
    h.sandbox.configure({ faultPath: null, unrecognisedCodeNext: 0 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.status).toBe("processing");
    expect(h.sandbox.requests().filter((r) => r.path === "/merchant/pay/get").length).toBeGreaterThan(
      getsBefore,
    );
    const [session] = await h.db.db
      .select()
      .from(paymentSessions)
      .where(eq(paymentSessions.id, prepared.sessionId));
    expect(session!.status).toBe("processing");
    const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(payment).toMatchObject({ status: "unknown", errorCode: "outcome_unknown" });
  });
});
