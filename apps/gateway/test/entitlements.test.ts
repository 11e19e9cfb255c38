// GET /api/v1/entitlements/{telegram_id}: what another service (a host bot through @obuna/grammy, a
// CRM) learns about a user's premium, with a scoped service token (SERVICE_TOKENS), an ETag and 304s.
import { subscriptions, users } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apply,
  call,
  type Harness,
  internalAuth,
  prepareSession,
  randomTelegramId,
  startHarness,
  tma,
} from "./harness";

const ENTITLEMENTS_TOKEN = "entitlements-test-service-token";
const PAYMENTS_ONLY_TOKEN = "payments-only-test-service-token";
const entitlementsAuth = `Bearer ${ENTITLEMENTS_TOKEN}`;
const DAY = 86_400_000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    serviceTokens: [
      { name: "assistant-bot", token: ENTITLEMENTS_TOKEN, scopes: new Set(["entitlements:read"]) },
      { name: "crm", token: PAYMENTS_ONLY_TOKEN, scopes: new Set(["payments:read"]) },
    ],
  });
});
afterAll(async () => {
  await h?.close();
});

const path = (telegramId: number) => `/api/v1/entitlements/${telegramId}`;

async function paidUser(options: { autoRenew?: boolean } = {}) {
  const prepared = await prepareSession(h, { autoRenew: options.autoRenew ?? true });
  const applied = await apply(h, prepared);
  expect(applied.body.data.status).toBe("completed");
  const [user] = await h.db.db.select().from(users).where(eq(users.telegramId, prepared.telegramId));
  const [sub] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.userId, user!.id));
  return { telegramId: prepared.telegramId, subscription: sub! };
}

describe("GET /api/v1/entitlements/{telegram_id}", () => {
  it("a user who paid: active, plan, until = end of the period, rail card, auto-renew, no grace", async () => {
    const { telegramId, subscription } = await paidUser();
    const res = await call(h, "GET", path(telegramId), { auth: entitlementsAuth });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      success: true,
      data: {
        telegram_id: telegramId,
        active: true,
        status: "active",
        plan: { slug: "monthly", names: { uz: "1 Oylik", ru: "1 месяц", en: "1 Month" } },
        until: subscription.endDate.toISOString(),
        rail: "card",
        auto_renew: true,
        grace: { active: false, until: null },
      },
    });
    expect(res.headers.get("cache-control")).toBe("private, no-cache");
  });

  it("an unknown user and a user who never paid are active:false / status none (200, not 404)", async () => {
    const never = {
      active: false,
      status: "none",
      plan: null,
      until: null,
      rail: null,
      auto_renew: false,
      grace: { active: false, until: null },
    };
    const unknown = randomTelegramId();
    const res = await call(h, "GET", path(unknown), { auth: entitlementsAuth });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ telegram_id: unknown, ...never });

    // Known to the gateway (asked for a link) but never paid: the same answer.
    const prepared = await prepareSession(h);
    const seen = await call(h, "GET", path(prepared.telegramId), { auth: entitlementsAuth });
    expect(seen.body.data).toEqual({ telegram_id: prepared.telegramId, ...never });
  });

  it("past_due inside grace: still active, until = grace end; expired: inactive, the last plan and end", async () => {
    const { telegramId, subscription } = await paidUser();
    const graceUntil = new Date(Date.now() + 3 * DAY);
    await h.db.db
      .update(subscriptions)
      .set({ status: "past_due", endDate: new Date(Date.now() - DAY), graceUntil })
      .where(eq(subscriptions.id, subscription.id));
    const pastDue = await call(h, "GET", path(telegramId), { auth: entitlementsAuth });
    expect(pastDue.body.data).toMatchObject({
      active: true,
      status: "past_due",
      until: graceUntil.toISOString(),
      auto_renew: true,
      grace: { active: true, until: graceUntil.toISOString() },
    });

    const endedAt = new Date(Date.now() - DAY);
    await h.db.db
      .update(subscriptions)
      .set({ status: "expired", autoRenew: false, endDate: endedAt, graceUntil: null })
      .where(eq(subscriptions.id, subscription.id));
    const expired = await call(h, "GET", path(telegramId), { auth: entitlementsAuth });
    expect(expired.body.data).toMatchObject({
      active: false,
      status: "expired",
      plan: { slug: "monthly" },
      until: endedAt.toISOString(),
      auto_renew: false,
      grace: { active: false, until: null },
    });
  });

  it("strong ETag over the body: If-None-Match that matches → 304 without a body; a change → new ETag and 200", async () => {
    const { telegramId, subscription } = await paidUser();
    const first = await h.app.request(path(telegramId), { headers: { authorization: entitlementsAuth } });
    const body = await first.text();
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/); // strong (no W/), SHA-1 of the body
    const again = await h.app.request(path(telegramId), { headers: { authorization: entitlementsAuth } });
    expect(again.headers.get("etag")).toBe(etag);
    expect(await again.text()).toBe(body);

    const notModified = await h.app.request(path(telegramId), {
      headers: { authorization: entitlementsAuth, "if-none-match": `"other", ${etag}` },
    });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe("");
    expect(notModified.headers.get("etag")).toBe(etag);
    expect(notModified.headers.get("cache-control")).toBe("private, no-cache");
    expect(notModified.headers.get("x-request-id")).toBeTruthy();

    // Auto-renew off changes the entitlement: the old ETag no longer matches.
    await h.db.db
      .update(subscriptions)
      .set({ autoRenew: false })
      .where(eq(subscriptions.id, subscription.id));
    const changed = await h.app.request(path(telegramId), {
      headers: { authorization: entitlementsAuth, "if-none-match": etag },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(((await changed.json()) as { data: { auto_renew: boolean } }).data.auto_renew).toBe(false);
  });

  it("auth: a token without entitlements:read → 403, a Mini App user → 403, no or a wrong token → 401; the bot's internal token may read", async () => {
    const telegramId = randomTelegramId();
    const wrongScope = await call(h, "GET", path(telegramId), { auth: `Bearer ${PAYMENTS_ONLY_TOKEN}` });
    expect(wrongScope.status).toBe(403);
    expect(wrongScope.body.error.code).toBe("FORBIDDEN");
    const user = await call(h, "GET", path(telegramId), { auth: tma(telegramId) });
    expect(user.status).toBe(403);
    expect((await call(h, "GET", path(telegramId), { auth: null })).status).toBe(401);
    const wrong = await call(h, "GET", path(telegramId), { auth: "Bearer not-a-token-we-issued" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("UNAUTHORIZED");
    expect((await call(h, "GET", path(telegramId), { auth: internalAuth })).status).toBe(200);
    expect((await call(h, "GET", "/api/v1/entitlements/abc", { auth: entitlementsAuth })).status).toBe(400);
  });

  it("a service token holds only its scopes: entitlements:read cannot create links or read subscriptions", async () => {
    const telegramId = randomTelegramId();
    const link = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: entitlementsAuth,
      body: { telegram_id: telegramId, plan_slug: "monthly", first_name: "T", language_code: "uz" },
    });
    expect(link.status).toBe(403);
    const sub = await call(h, "GET", `/api/v1/user/${telegramId}/subscription`, { auth: entitlementsAuth });
    expect(sub.status).toBe(403);
    // The payments-only token reads payments (404 for a user the gateway never saw, not 403).
    const payments = await call(h, "GET", `/api/v1/user/${telegramId}/payments`, {
      auth: `Bearer ${PAYMENTS_ONLY_TOKEN}`,
    });
    expect(payments.status).toBe(404);
  });

  it("is in the public OpenAPI document with its 304", async () => {
    const spec = (await call(h, "GET", "/openapi.json")).body;
    const operation = spec.paths["/api/v1/entitlements/{telegram_id}"].get;
    expect(operation.security).toEqual([{ internalToken: [] }]);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["200", "304", "401", "403"]));
  });
});
