import { createAtmosClient, signCallback } from "@obuna/atmos";
import { paymentSessions, payments } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLBACK_API_KEY, STORE_ID } from "./constants";
import { apply, call, type Harness, prepareSession, startHarness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

function confirmedCharges(transactionId: number) {
  return h.sandbox.ledger().filter((t) => t.transactionId === transactionId && t.state === "confirmed");
}

describe("lost apply answer", () => {
  it("the charge happened but the answer was lost → resolved through get before answering, no second charge", async () => {
    const prepared = await prepareSession(h, { card: "humo1" });
    h.sandbox.configure({ loseNextApply: 1, lostApplyMode: "reset" });
    const res = await apply(h, prepared);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.status).toBe("completed");
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
    const rows = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe("success");
    // A retry by the client charges nothing.
    expect((await apply(h, prepared)).body.data.status).toBe("completed");
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
  });

  it("when ATMOS cannot tell either, payment `unknown` + session `processing`; GET session finishes it once", async () => {
    const prepared = await prepareSession(h, { card: "humo2", autoRenew: true });
    h.sandbox.configure({
      loseNextApply: 1,
      lostApplyMode: "reset",
      faultPath: "/merchant/pay/get",
      failNext: 10,
    });
    const res = await apply(h, prepared);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ status: "processing", subscription: null });
    const [session] = await h.db.db
      .select()
      .from(paymentSessions)
      .where(eq(paymentSessions.id, prepared.sessionId));
    expect(session!.status).toBe("processing");
    const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(payment!.status).toBe("unknown");

    // Retrying apply meanwhile never charges again.
    const retry = await apply(h, prepared, "111111", { "idempotency-key": "lost-apply-retry" });
    expect(retry.status).toBe(200);
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);

    h.sandbox.configure({ failNext: 0, faultPath: null });
    const polled = await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, {
      auth: prepared.auth,
    });
    expect(polled.body.data).toMatchObject({ status: "completed", subscription: { auto_renew: true } });
    const rows = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe("success");
    expect(rows[0]!.boundCardId).not.toBeNull();
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
    // The provisional `processing` answer was not stored: the same key now sees the outcome.
    const replay = await apply(h, prepared, "111111", { "idempotency-key": "lost-apply-retry" });
    expect(replay.body.data.status).toBe("completed");
  });

  it("a callback arriving instead of the apply answer finishes an `unknown` payment exactly once", async () => {
    const prepared = await prepareSession(h, { card: "humo3" });
    h.sandbox.configure({
      loseNextApply: 1,
      lostApplyMode: "reset",
      faultPath: "/merchant/pay/get",
      failNext: 10,
    });
    expect((await apply(h, prepared)).body.data.status).toBe("processing");
    h.sandbox.configure({ failNext: 0, faultPath: null });
    const [session] = await h.db.db
      .select()
      .from(paymentSessions)
      .where(eq(paymentSessions.id, prepared.sessionId));
    const fields = {
      store_id: STORE_ID,
      transaction_id: String(prepared.transactionId),
      amount: String(prepared.amount),
      account: session!.providerReference!,
    };
    const body = { ...fields, sign: signCallback(fields, CALLBACK_API_KEY) };
    const send = () =>
      fetch(`${h.baseUrl}/api/v1/atmos/callback`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    const [first, second] = await Promise.all([send(), send()]);
    expect(first).toEqual({ status: 1, message: "Success" });
    expect(second).toEqual({ status: 1, message: "Success" });
    // The re-check runs after the reply: wait for the session to finish.
    for (let i = 0; i < 100; i++) {
      const [row] = await h.db.db
        .select()
        .from(paymentSessions)
        .where(eq(paymentSessions.id, prepared.sessionId));
      if (row!.status === "completed") break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const rows = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe("success");
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
    const jobs = await h.queue.getJobs(["waiting", "delayed", "completed", "failed"]);
    expect(jobs.filter((j) => j.data.paymentId === rows[0]!.id)).toHaveLength(1);
  });

  it("an apply whose process died after ATMOS charged is finished by a later GET session", async () => {
    const prepared = await prepareSession(h, { card: "uzcard1" });
    // The gateway claimed the session and recorded the attempt, then vanished mid-call.
    await h.db.db
      .update(paymentSessions)
      .set({ status: "processing" })
      .where(eq(paymentSessions.id, prepared.sessionId));
    const atmos = createAtmosClient({
      baseUrl: h.sandbox.url,
      consumerKey: "sandbox_consumer_key",
      consumerSecret: "sandbox_consumer_secret",
      storeId: STORE_ID,
    });
    const charged = await atmos.apply({ transactionId: prepared.transactionId, otp: "111111" });
    expect(charged.confirmed).toBe(true);

    // Too early: an apply may still be in flight, so nothing is decided yet.
    const early = await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, {
      auth: prepared.auth,
    });
    expect(early.body.data.status).toBe("processing");
    h.clock.offsetMs = 3 * 60_000;
    try {
      const late = await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, {
        auth: prepared.auth,
      });
      expect(late.body.data.status).toBe("completed");
    } finally {
      h.clock.offsetMs = 0;
    }
    const rows = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe("success");
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
  });
});
