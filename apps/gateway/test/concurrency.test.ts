import { paymentSessions, payments, subscriptions } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apply, type Harness, prepareSession, startHarness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("concurrency", () => {
  it("20 parallel applies on one session → one ATMOS charge, one payment, one subscription period", async () => {
    const prepared = await prepareSession(h, { card: "humo1", autoRenew: true });
    const results = await Promise.all(Array.from({ length: 20 }, () => apply(h, prepared)));
    for (const res of results) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(["completed", "processing"]).toContain(res.body.data.status);
    }
    expect(results.filter((r) => r.body.data.status === "completed").length).toBeGreaterThanOrEqual(1);

    const [session] = await h.db.db
      .select()
      .from(paymentSessions)
      .where(eq(paymentSessions.id, prepared.sessionId));
    expect(session!.status).toBe("completed");
    const paymentRows = await h.db.db.select().from(payments).where(eq(payments.userId, session!.userId));
    expect(paymentRows).toHaveLength(1);
    expect(paymentRows[0]!.status).toBe("success");
    const subs = await h.db.db.select().from(subscriptions).where(eq(subscriptions.userId, session!.userId));
    expect(subs).toHaveLength(1);
    expect(subs[0]!.endDate.getTime() - subs[0]!.startDate.getTime()).toBe(30 * 86_400_000);
    const charges = h.sandbox
      .ledger()
      .filter((t) => t.state === "confirmed" && t.transactionId === prepared.transactionId);
    expect(charges).toHaveLength(1);
    // Every later apply answers the completed result.
    const after = await apply(h, prepared);
    expect(after.body.data).toMatchObject({ status: "completed", payment_id: paymentRows[0]!.id });
  });

  it("two sessions of one user paid at the same time extend one subscription by both periods", async () => {
    const a = await prepareSession(h, { card: "humo2" });
    const b = await prepareSession(h, { card: "humo3", telegramId: a.telegramId });
    const [ra, rb] = await Promise.all([apply(h, a), apply(h, b)]);
    expect(ra.status, JSON.stringify(ra.body)).toBe(200);
    expect(rb.status, JSON.stringify(rb.body)).toBe(200);
    expect(ra.body.data.status).toBe("completed");
    expect(rb.body.data.status).toBe("completed");
    const [session] = await h.db.db.select().from(paymentSessions).where(eq(paymentSessions.id, a.sessionId));
    const subs = await h.db.db.select().from(subscriptions).where(eq(subscriptions.userId, session!.userId));
    expect(subs).toHaveLength(1);
    expect(subs[0]!.endDate.getTime() - subs[0]!.startDate.getTime()).toBe(60 * 86_400_000);
  });
});
