import { boundCards, paymentSessions, payments, subscriptions, users } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS_TOKEN } from "./constants";
import {
  apply,
  call,
  createSession,
  type Harness,
  internalAuth,
  prepareSession,
  startHarness,
  uniqueKey,
} from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function rowsFor(sessionId: string) {
  const [session] = await h.db.db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId));
  const [user] = await h.db.db.select().from(users).where(eq(users.id, session!.userId));
  const paymentRows = await h.db.db.select().from(payments).where(eq(payments.userId, session!.userId));
  const subs = await h.db.db.select().from(subscriptions).where(eq(subscriptions.userId, session!.userId));
  const cards = await h.db.db.select().from(boundCards).where(eq(boundCards.userId, session!.userId));
  return { session: session!, user: user!, payments: paymentRows, subscriptions: subs, cards };
}

describe("create-link and session", () => {
  it("creates a 30-minute session with the Mini App link and the plan", async () => {
    const link = await createSession(h, 700_000_001);
    expect(link.payment_url).toBe(`http://miniapp.test/?session_id=${link.session_id}`);
    expect(link.plan).toMatchObject({
      slug: "monthly",
      price: "29 000 so'm",
      duration_days: 30,
      period: "30 kun",
    });
    const minutes = (Date.parse(link.expires_at) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(29);
    expect(minutes).toBeLessThanOrEqual(30);
    const session = await call(h, "GET", `/api/v1/payment/session/${link.session_id}`, {
      auth: internalAuth,
    });
    expect(session.status).toBe(200);
    expect(session.body.data).toMatchObject({
      session_id: link.session_id,
      status: "pending",
      auto_renew: false,
      amount: 2_900_000,
      plan: { slug: "monthly", price_raw: 2_900_000, period: "30 kun" },
      otp_attempts_left: 5,
    });
  });

  it("lists the active plans publicly", async () => {
    const res = await call(h, "GET", "/api/v1/plans");
    expect(res.status).toBe(200);
    expect(res.body.data.plans.map((p: { slug: string }) => p.slug)).toEqual([
      "monthly",
      "quarterly",
      "yearly",
    ]);
    expect(res.body.data.plans[0]).toMatchObject({
      price: "29 000 so'm",
      price_raw: 2_900_000,
      duration_days: 30,
    });
  });
});

describe("the whole flow against the ATMOS sandbox", () => {
  it("auto-renew off: card + OTP → payment, subscription, premium, session completed, no card saved", async () => {
    const prepared = await prepareSession(h, { card: "humo1", autoRenew: false });
    expect(prepared.pre.status).toBe(200);
    expect(prepared.pre.body.data).toMatchObject({
      card_masked: "986009******4364",
      card_type: "humo",
      otp_length: 6,
    });
    expect(prepared.pre.body.data.phone_masked).toMatch(/^\*+0001$/);
    const res = await apply(h, prepared);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: "completed", amount: 2_900_000, card_saved: false });

    const rows = await rowsFor(prepared.sessionId);
    expect(rows.session).toMatchObject({
      status: "completed",
      autoRenew: false,
      cardMasked: "986009******4364",
    });
    expect(rows.session.completedAt).toBeInstanceOf(Date);
    expect(rows.user.role).toBe("premium");
    expect(rows.payments).toHaveLength(1);
    expect(rows.payments[0]).toMatchObject({
      provider: "atmos",
      kind: "initial",
      status: "success",
      amount: 2_900_000,
      externalId: String(prepared.transactionId),
      idempotencyKey: `session:${prepared.sessionId}`,
      cardMasked: "986009******4364",
      boundCardId: null,
    });
    expect(Number(rows.payments[0]!.settlementId)).toBeGreaterThan(0);
    expect(rows.subscriptions).toHaveLength(1);
    const sub = rows.subscriptions[0]!;
    expect(sub).toMatchObject({ status: "active", isActive: true, autoRenew: false, boundCardId: null });
    expect(sub.endDate.getTime() - sub.startDate.getTime()).toBe(30 * 86_400_000);
    expect(rows.cards).toHaveLength(0);
    expect(res.body.data.subscription).toMatchObject({ id: sub.id, plan_slug: "monthly", auto_renew: false });

    const ledger = h.sandbox.ledger().filter((t) => t.transactionId === prepared.transactionId);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ state: "confirmed", amount: 2_900_000, callbackStatus: "accepted" });

    const job = await h.queue.getJob(`ntf-payment_succeeded-${rows.user.id}-${rows.payments[0]!.id}`);
    expect(job?.data).toEqual({
      kind: "payment_succeeded",
      userId: rows.user.id,
      paymentId: rows.payments[0]!.id,
      subscriptionId: sub.id,
    });

    // Apply again: same answer, nothing charged.
    const again = await apply(h, prepared);
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual(res.body.data);
    expect(h.sandbox.ledger().filter((t) => t.transactionId === prepared.transactionId)).toHaveLength(1);
    expect((await rowsFor(prepared.sessionId)).payments).toHaveLength(1);

    const session = await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, {
      auth: prepared.auth,
    });
    expect(session.body.data).toMatchObject({ status: "completed", subscription: { id: sub.id } });
  });

  it("auto-renew on: one OTP binds the card, pays with its token, saves it encrypted", async () => {
    const prepared = await prepareSession(h, { card: "uzcard1", autoRenew: true });
    expect(prepared.pre.status).toBe(200);
    const res = await apply(h, prepared);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      status: "completed",
      card_saved: true,
      subscription: { auto_renew: true },
    });

    const rows = await rowsFor(prepared.sessionId);
    expect(rows.cards).toHaveLength(1);
    const card = rows.cards[0]!;
    expect(card).toMatchObject({
      panMasked: "561468******8807",
      cardType: "uzcard",
      expiry: "2903",
      isActive: true,
      removedAt: null,
    });
    expect(card.cardToken?.startsWith("v1.")).toBe(true);
    expect(rows.subscriptions[0]).toMatchObject({ autoRenew: true, boundCardId: card.id, status: "active" });
    expect(rows.payments[0]).toMatchObject({ status: "success", boundCardId: card.id });
    expect(rows.user.role).toBe("premium");
    const ledger = h.sandbox.ledger().filter((t) => t.transactionId === prepared.transactionId);
    expect(ledger[0]).toMatchObject({ state: "confirmed", viaToken: true });

    const cards = await call(h, "GET", `/api/v1/user/${prepared.telegramId}/cards`, { auth: prepared.auth });
    expect(cards.body.data.cards).toEqual([
      expect.objectContaining({ id: card.id, pan_masked: "561468******8807" }),
    ]);
    const subRes = await call(h, "GET", `/api/v1/user/${prepared.telegramId}/subscription`, {
      auth: prepared.auth,
    });
    expect(subRes.body.data.subscription).toMatchObject({
      auto_renew: true,
      is_active: true,
      card: { id: card.id },
      next_charge: { amount: 2_900_000, card_masked: "561468******8807" },
    });

    // Cancel keeps access; resume turns auto-renew back on.
    const subId = rows.subscriptions[0]!.id;
    const cancel = await call(h, "POST", `/api/v1/subscription/${subId}/cancel`, { auth: prepared.auth });
    expect(cancel.status).toBe(200);
    expect(cancel.body.data.subscription).toMatchObject({
      auto_renew: false,
      is_active: true,
      status: "active",
    });
    expect(cancel.body.data.subscription.cancelled_at).not.toBeNull();
    const resume = await call(h, "POST", `/api/v1/subscription/${subId}/resume`, { auth: prepared.auth });
    expect(resume.body.data.subscription).toMatchObject({ auto_renew: true, cancelled_at: null });

    // Removing the card removes it at ATMOS and stops auto-renew.
    const removed = await call(h, "DELETE", `/api/v1/user/${prepared.telegramId}/cards/${card.id}`, {
      auth: prepared.auth,
    });
    expect(removed.status).toBe(200);
    expect(removed.body.data.cards).toEqual([]);
    const [after] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subId));
    expect(after).toMatchObject({ autoRenew: false, boundCardId: null });
  });

  it("a second payment adds the new period after the time left", async () => {
    const first = await prepareSession(h, { card: "humo2" });
    expect((await apply(h, first)).status).toBe(200);
    const [before] = await h.db.db
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.userId, (await rowsFor(first.sessionId)).user.id));
    const second = await prepareSession(h, {
      card: "humo2",
      telegramId: first.telegramId,
      plan: "quarterly",
    });
    const res = await apply(h, second);
    expect(res.status).toBe(200);
    const rows = await rowsFor(second.sessionId);
    expect(rows.subscriptions).toHaveLength(1);
    expect(rows.subscriptions[0]!.endDate.getTime()).toBe(before!.endDate.getTime() + 90 * 86_400_000);
    expect(rows.payments.filter((p) => p.status === "success")).toHaveLength(2);
    const history = await call(h, "GET", `/api/v1/user/${first.telegramId}/payments`, { auth: first.auth });
    expect(history.body.data.payments).toHaveLength(2);
    expect(history.body.data.payments[0]).toMatchObject({
      status: "success",
      amount_formatted: "79 000 so'm",
    });
  });

  it("auto-renew with a card ATMOS already holds (ERR-133): still one OTP, one card row, renewals keep it", async () => {
    const first = await prepareSession(h, { card: "uzcard2", autoRenew: true });
    expect((await apply(h, first)).body.data.card_saved).toBe(true);
    const second = await prepareSession(h, {
      card: "uzcard2",
      autoRenew: true,
      telegramId: first.telegramId,
    });
    expect(second.pre.status).toBe(200);
    const wrong = await apply(h, second, "000000");
    expect(wrong.body.error.code).toBe("WRONG_OTP");
    const res = await apply(h, second);
    expect(res.body.data).toMatchObject({
      status: "completed",
      card_saved: true,
      subscription: { auto_renew: true },
    });
    const rows = await rowsFor(second.sessionId);
    expect(rows.cards).toHaveLength(1);
    expect(rows.cards[0]).toMatchObject({ isActive: true, removedAt: null });
    expect(rows.subscriptions[0]).toMatchObject({ autoRenew: true, boundCardId: rows.cards[0]!.id });
    // The second charge went through the SMS code (not the token alone).
    expect(h.sandbox.ledger().find((t) => t.transactionId === second.transactionId)).toMatchObject({
      state: "confirmed",
      viaToken: false,
    });
  });

  it("a card bound for a payment that never completes is not listed nor usable", async () => {
    const prepared = await prepareSession(h, { card: "humo3", autoRenew: true });
    expect((await apply(h, prepared, "000000")).status).toBe(400);
    const cards = await call(h, "GET", `/api/v1/user/${prepared.telegramId}/cards`, { auth: prepared.auth });
    expect(cards.body.data.cards).toEqual([]);
  });

  it("replays a stored response for a repeated Idempotency-Key", async () => {
    const telegramId = 700_000_002;
    const key = uniqueKey();
    const body = { telegram_id: telegramId, plan_slug: "monthly" };
    const first = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body,
      headers: { "idempotency-key": key },
    });
    const second = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body,
      headers: { "idempotency-key": key },
    });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
  });
});

describe("service endpoints", () => {
  it("healthz, readyz, metrics, openapi.json and docs", async () => {
    const health = await call(h, "GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.headers.get("x-request-id")).toBeTruthy();
    const ready = await call(h, "GET", "/readyz");
    expect(ready.body).toEqual({ status: "ready", checks: { database: "ok", redis: "ok" } });
    const metrics = await call(h, "GET", "/metrics", { auth: `Bearer ${METRICS_TOKEN}` });
    expect(metrics.body).toContain("gateway_http_requests_total");
    expect(metrics.body).toContain('gateway_payments_total{outcome="success"}');
    expect(metrics.body).toContain("gateway_atmos_call_duration_seconds");
    const spec = await call(h, "GET", "/openapi.json");
    expect(spec.status).toBe(200);
    for (const path of [
      "/api/v1/payment/create-link",
      "/api/v1/payment/session/{session_id}",
      "/api/v1/atmos/create",
      "/api/v1/atmos/pre-apply",
      "/api/v1/atmos/apply",
      "/api/v1/atmos/callback",
      "/api/v1/user/{telegram_id}/payments",
      "/api/v1/subscription/{id}/cancel",
    ]) {
      expect(spec.body.paths[path], path).toBeDefined();
    }
    const docs = await call(h, "GET", "/docs");
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toContain("swagger");
  });
});
