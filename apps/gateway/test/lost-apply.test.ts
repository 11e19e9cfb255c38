import { paymentSessions, payments } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
    const retry = await apply(h, prepared);
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
    expect((await apply(h, prepared)).body.data.status).toBe("completed");
  });
});
