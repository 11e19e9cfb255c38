/**
 * A session that expires also closes its payment row (issue 18), whichever path expires it: the
 * gateway (a request on the session past its time) or the renewals maintenance query. And reconcile
 * reports a payment still open on a session that ended, at once and even when ATMOS cannot answer.
 */
import { type AtmosClient, createAtmosClient } from "@obuna/atmos";
import { expireStalePaymentSessions } from "@obuna/db/queries";
import { paymentSessions, payments } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fetchSandboxLedger, reconcile } from "../src/admin/reconcile";
import { STORE_ID } from "./constants";
import { apply, call, type Harness, prepareSession, sandboxRail, startHarness } from "./harness";

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
afterEach(() => {
  h.clock.offsetMs = 0;
  h.sandbox.configure({ faultPath: null, failNext: 0 });
});
afterAll(async () => {
  await h?.close();
});

/** A session released to `pending` by a wrong SMS code after its apply recorded the `pending` payment. */
async function sessionWithPendingPayment(card: "humo1" | "humo2" | "humo3") {
  const prepared = await prepareSession(h, { card });
  const wrong = await apply(h, prepared, "000000");
  expect(wrong.body.error?.code, JSON.stringify(wrong.body)).toBe("WRONG_OTP");
  const [payment] = await paymentOf(prepared.sessionId);
  expect(payment!.status).toBe("pending");
  return prepared;
}

async function paymentOf(sessionId: string) {
  return h.db.db.select().from(payments).where(eq(payments.sessionId, sessionId));
}

async function sessionStatus(sessionId: string) {
  const [row] = await h.db.db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId));
  return row!.status;
}

describe("expiry closes the payment", () => {
  it("expired by the gateway (GET past its time): the pending payment fails in the same statement", async () => {
    const prepared = await sessionWithPendingPayment("humo1");
    h.clock.offsetMs = 31 * MINUTE;
    const res = await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, {
      auth: prepared.auth,
    });
    expect(res.status).toBe(410);
    expect(await sessionStatus(prepared.sessionId)).toBe("expired");
    expect((await paymentOf(prepared.sessionId)).map((p) => [p.status, p.errorCode])).toEqual([
      ["failed", "session_expired"],
    ]);
  });

  it("expired by the renewals maintenance query: the pending payment fails with it", async () => {
    const prepared = await sessionWithPendingPayment("humo2");
    const expired = await expireStalePaymentSessions(h.db.db, new Date(Date.now() + 31 * MINUTE));
    expect(expired).toBeGreaterThanOrEqual(1);
    expect(await sessionStatus(prepared.sessionId)).toBe("expired");
    expect((await paymentOf(prepared.sessionId)).map((p) => [p.status, p.errorCode])).toEqual([
      ["failed", "session_expired"],
    ]);
  });
});

describe("reconcile", () => {
  it("reports a payment still pending on an expired session at once, also when ATMOS cannot answer", async () => {
    const since = new Date();
    const prepared = await sessionWithPendingPayment("humo3");
    // As the expiry used to leave it: the session expired, its payment still pending.
    await h.db.db
      .update(paymentSessions)
      .set({ status: "expired" })
      .where(eq(paymentSessions.id, prepared.sessionId));
    const deps = {
      db: h.db.db,
      provider: sandboxRail(atmos).provider,
      storeId: STORE_ID,
      ledger: () => fetchSandboxLedger(h.sandbox.url),
    };

    // Default grace time (15 minutes): the payment is only seconds old, yet nothing will resolve it.
    const report = await reconcile(deps, { since });
    const findings = report.discrepancies.filter((d) => d.ref === prepared.sessionId);
    expect(findings.map((d) => d.kind)).toEqual(["unresolved_outcome"]);
    expect(findings[0]!.message).toMatch(/still pending although its session is expired/);

    h.sandbox.configure({ faultPath: "/merchant/pay/get", failNext: 100 });
    const blind = await reconcile(deps, { since });
    expect(blind.discrepancies.filter((d) => d.ref === prepared.sessionId).map((d) => d.atmos)).toEqual([
      "not checked",
    ]);
  });
});
