import { createAtmosClient } from "@obuna/atmos";
import { auditLog, boundCards, paymentSessions, payments, subscriptions, users } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueAdminSession } from "../src/admin/auth";
import { createApp } from "../src/app";
import { METRICS_TOKEN, STORE_ID } from "./constants";
import {
  apply,
  type Harness,
  internalAuth,
  type Json,
  prepareSession,
  randomTelegramId,
  sandboxRail,
  startHarness,
  testGatewayConfig,
  tma,
} from "./harness";

const ADMIN_TOKEN = "gateway-test-admin-token-0123456789";
const ADMIN_TG = 424242;
const bearer = `Bearer ${ADMIN_TOKEN}`;
const DAY = 86_400_000;

let h: Harness;
let adminApp: ReturnType<typeof createApp>;

beforeAll(async () => {
  h = await startHarness();
  adminApp = createApp(gatewayDeps(), {
    admin: { adminToken: ADMIN_TOKEN, telegramIds: [ADMIN_TG], sessionTtlS: 3600 },
  });
});
afterAll(async () => {
  await h?.close();
});

/** The harness's gateway dependencies (its database, sandbox, queue and clock). */
function gatewayDeps() {
  return {
    db: h.db.db,
    ...sandboxRail(
      createAtmosClient({
        baseUrl: h.sandbox.url,
        consumerKey: "sandbox_consumer_key",
        consumerSecret: "sandbox_consumer_secret",
        storeId: STORE_ID,
        timeoutMs: 5_000,
        retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
      }),
    ),
    notificationsQueue: h.queue,
    redis: h.redis,
    logger: pino({ level: "silent" }),
    clock: () => new Date(Date.now() + h.clock.offsetMs),
    // In-process requests carry no client IP, so every sign-in here shares one per-IP bucket; the
    // per-IP limit itself is tested over real sockets in rate-limit.test.ts.
    config: testGatewayConfig({ rateLimits: { adminSignInPerIpPer15Min: 1000 } }),
  };
}

async function admin(
  method: string,
  path: string,
  options: { auth?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  const auth = options.auth === undefined ? bearer : options.auth;
  if (auth) headers.authorization = auth;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  const res = await adminApp.request(path, { method, headers, ...(body ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as Json };
}

async function auditRows(entityType: string, entityId: number | string) {
  return h.db.db
    .select()
    .from(auditLog)
    .where(eq(auditLog.entityId, String(entityId)))
    .then((rows) => rows.filter((r) => r.entityType === entityType && r.actor !== "gateway"));
}

/** A completed first payment through the real flow. */
async function paid(
  options: {
    autoRenew?: boolean;
    card?: "humo1" | "humo2" | "humo3" | "humo4" | "uzcard1" | "uzcard2";
    telegramId?: number;
  } = {},
) {
  const prepared = await prepareSession(h, {
    card: options.card ?? "humo1",
    autoRenew: options.autoRenew ?? false,
    ...(options.telegramId ? { telegramId: options.telegramId } : {}),
  });
  const res = await apply(h, prepared);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.data.status).toBe("completed");
  const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
  return { prepared, payment: payment!, subscriptionId: res.body.data.subscription.id as number };
}

const ENDPOINTS: Array<[string, string, unknown?]> = [
  ["POST", "/api/v1/admin/session/telegram"],
  ["POST", "/api/v1/admin/logout"],
  ["GET", "/api/v1/admin/me"],
  ["GET", "/api/v1/admin/dashboard"],
  ["GET", "/api/v1/admin/payment-sessions"],
  ["GET", "/api/v1/admin/payments"],
  ["GET", "/api/v1/admin/subscriptions"],
  ["GET", "/api/v1/admin/cards"],
  ["GET", "/api/v1/admin/users"],
  ["GET", "/api/v1/admin/audit-log"],
  ["POST", "/api/v1/admin/cards/1/deactivate", { reason: "test reason" }],
  ["POST", "/api/v1/admin/cards/1/reactivate", { reason: "test reason" }],
  ["POST", "/api/v1/admin/cards/1/remove", { reason: "test reason" }],
  ["POST", "/api/v1/admin/payments/1/refund", { reason: "test reason" }],
  ["POST", "/api/v1/admin/subscriptions/1/extend", { days: 3, reason: "test reason" }],
  ["POST", "/api/v1/admin/subscriptions/1/cancel", { reason: "test reason" }],
  // Plans in admin and the dashboard series (POST /admin/plans shares its path with the list; its
  // refusals are in admin.plans.test.ts).
  ["GET", "/api/v1/admin/plans"],
  ["POST", "/api/v1/admin/plans/1/edit", { name_en: "x", reason: "test reason" }],
  ["POST", "/api/v1/admin/plans/1/price", { price: 100_000, reason: "test reason" }],
  ["GET", "/api/v1/admin/dashboard/series"],
  // Signed events: the delivery log and the resend.
  ["GET", "/api/v1/admin/event-deliveries"],
  ["POST", "/api/v1/admin/event-deliveries/1/resend", { reason: "test reason" }],
];

describe("admin auth", () => {
  it("every admin endpoint refuses a missing, wrong, internal, user, expired or forged credential with 401", async () => {
    const expired = issueAdminSession(
      { adminToken: ADMIN_TOKEN, sessionTtlS: 60 },
      "old",
      new Date(Date.now() - 3600_000),
    );
    const forged = issueAdminSession({ adminToken: "another-admin-token-entirely" }, "mallory", new Date());
    const bad = [
      null,
      "Bearer wrong-token",
      `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString("base64")}`,
      internalAuth,
      tma(randomTelegramId()),
      `Bearer ${expired.token}`,
      `Bearer ${forged.token}`,
      `Bearer ${ADMIN_TOKEN}x`,
    ];
    for (const [method, path, body] of ENDPOINTS) {
      for (const auth of bad) {
        const res = await admin(method, path, { auth, ...(body ? { body } : {}) });
        expect(res.status, `${method} ${path} with ${auth?.slice(0, 12)}`).toBe(401);
        expect(res.body).toMatchObject({ success: false, error: { code: "UNAUTHORIZED" } });
        expect(typeof res.body.error.requestId).toBe("string");
      }
    }
    // Nothing was written by the refused actions.
    expect(await h.db.db.select().from(auditLog).where(eq(auditLog.entityId, "1"))).toHaveLength(0);
  });

  it("an app without admin config refuses even the right token", async () => {
    const res = await h.app.request("/api/v1/admin/dashboard", { headers: { authorization: bearer } });
    expect(res.status).toBe(401);
  });

  it("session sign-in: wrong token 401; right token → a signed session token whose actor is `admin`, whatever the body claims", async () => {
    const wrong = await admin("POST", "/api/v1/admin/session", { auth: null, body: { token: "nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("UNAUTHORIZED");
    const invalid = await admin("POST", "/api/v1/admin/session", { auth: null, body: {} });
    expect(invalid.status).toBe(400);
    const ok = await admin("POST", "/api/v1/admin/session", {
      auth: null,
      body: { token: ADMIN_TOKEN, actor: "dilnoza" },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.data.actor).toBe("admin");
    expect(ok.body.data.session_token).not.toContain(ADMIN_TOKEN);
    expect(Date.parse(ok.body.data.expires_at)).toBeGreaterThan(Date.now() + 3500_000);
    const me = await admin("GET", "/api/v1/admin/me", { auth: `Bearer ${ok.body.data.session_token}` });
    expect(me.body.data).toMatchObject({ actor: "admin", via: "session" });
    // A tampered payload (another actor) fails the signature.
    const [p, payload, sig] = ok.body.data.session_token.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const other = Buffer.from(JSON.stringify({ ...claims, a: "root", exp: 9_999_999_999 })).toString(
      "base64url",
    );
    expect(payload).not.toBe(other);
    expect((await admin("GET", "/api/v1/admin/me", { auth: `Bearer ${p}.${other}.${sig}` })).status).toBe(
      401,
    );
  });

  it("a correctly signed session token with no session on the server is refused", async () => {
    // Signed with the right key but never recorded (or recorded and since deleted): 401.
    const unrecorded = issueAdminSession({ adminToken: ADMIN_TOKEN, sessionTtlS: 3600 }, "admin", new Date());
    const res = await admin("GET", "/api/v1/admin/me", { auth: `Bearer ${unrecorded.token}` });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("UNAUTHORIZED");
  });

  it("sign-out ends the session on the server: the same token is refused afterwards", async () => {
    const signIn = await admin("POST", "/api/v1/admin/session", { auth: null, body: { token: ADMIN_TOKEN } });
    const session = `Bearer ${signIn.body.data.session_token}`;
    const other = await admin("POST", "/api/v1/admin/session", { auth: null, body: { token: ADMIN_TOKEN } });
    expect((await admin("GET", "/api/v1/admin/dashboard", { auth: session })).status).toBe(200);

    const out = await admin("POST", "/api/v1/admin/logout", { auth: session });
    expect(out.status).toBe(200);
    expect(out.body.data).toEqual({ ended: true });
    for (const [method, path, body] of ENDPOINTS) {
      const res = await admin(method, path, { auth: session, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path} after sign-out`).toBe(401);
    }
    expect((await admin("POST", "/api/v1/admin/logout", { auth: session })).status).toBe(401);
    // Another session of the same admin is untouched; ADMIN_TOKEN itself has no session to end.
    const stillIn = `Bearer ${other.body.data.session_token}`;
    expect((await admin("GET", "/api/v1/admin/me", { auth: stillIn })).status).toBe(200);
    expect((await admin("POST", "/api/v1/admin/logout")).body.data).toEqual({ ended: false });
  });

  it("an admin's initData is no admin credential anywhere but the session exchange", async () => {
    // Launch data lives in the Mini App URL for a day: on admin routes it is refused outright.
    for (const [method, path, body] of ENDPOINTS.filter(([, p]) => !p.endsWith("/session/telegram"))) {
      const res = await admin(method, path, { auth: tma(ADMIN_TG), ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe("UNAUTHORIZED");
    }
    const me = await admin("GET", "/api/v1/admin/me", { auth: tma(ADMIN_TG) });
    expect(me.status).toBe(401);
  });

  it("the session exchange takes only initData of the last ADMIN_INIT_DATA_MAX_AGE_S (default 5 minutes)", async () => {
    const path = "/api/v1/admin/session/telegram";
    const ago = (seconds: number) => ({ authDate: new Date(Date.now() - seconds * 1000) });
    const stale = await admin("POST", path, { auth: tma(ADMIN_TG, ago(10 * 60)) });
    expect(stale.status).toBe(401);
    expect(stale.body.error.details).toEqual({ reason: "expired" });
    expect((await admin("POST", path, { auth: tma(ADMIN_TG, ago(4 * 60)) })).status).toBe(200);
    // The setting is honoured.
    const strict = createApp(gatewayDeps(), {
      admin: { adminToken: ADMIN_TOKEN, telegramIds: [ADMIN_TG], telegramInitDataMaxAgeS: 60 },
    });
    const res = await strict.request(path, {
      method: "POST",
      headers: { authorization: tma(ADMIN_TG, ago(2 * 60)) },
    });
    expect(res.status).toBe(401);
  });

  it("a Telegram admin exchanges initData for a session; it ends when the user leaves ADMIN_TELEGRAM_IDS", async () => {
    const path = "/api/v1/admin/session/telegram";
    for (const auth of [null, tma(randomTelegramId()), bearer, internalAuth]) {
      const refused = await admin("POST", path, { auth });
      expect(refused.status, String(auth?.slice(0, 12))).toBe(401);
      expect(refused.body.error.code).toBe("UNAUTHORIZED");
    }
    const ok = await admin("POST", path, { auth: tma(ADMIN_TG) });
    expect(ok.status).toBe(200);
    expect(ok.body.data.actor).toBe(`tg:${ADMIN_TG}`);
    const session = `Bearer ${ok.body.data.session_token}`;
    const me = await admin("GET", "/api/v1/admin/me", { auth: session });
    expect(me.body.data).toMatchObject({ actor: `tg:${ADMIN_TG}`, via: "session" });

    // The same gateway configuration without that user: the session is refused at once.
    const withoutHim = createApp(gatewayDeps(), {
      admin: { adminToken: ADMIN_TOKEN, telegramIds: [], sessionTtlS: 3600 },
    });
    const res = await withoutHim.request("/api/v1/admin/me", { headers: { authorization: session } });
    expect(res.status).toBe(401);

    // Sign-out ends a Telegram session too.
    expect((await admin("POST", "/api/v1/admin/logout", { auth: session })).body.data).toEqual({
      ended: true,
    });
    expect((await admin("GET", "/api/v1/admin/me", { auth: session })).status).toBe(401);
  });
});

describe("admin reads", () => {
  it("dashboard, lists, search and pagination after real payments", async () => {
    const telegramId = randomTelegramId();
    const first = await paid({ autoRenew: true, card: "humo2", telegramId });
    await paid({ card: "uzcard1" });

    const dash = await admin("GET", "/api/v1/admin/dashboard");
    expect(dash.status).toBe(200);
    const [plan] = await h.db.db
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.id, first.subscriptionId));
    expect(plan!.autoRenew).toBe(true);
    expect(dash.body.data.active_subscriptions).toBe(2);
    expect(dash.body.data.payments_today.count).toBe(2);
    expect(dash.body.data.payments_today.sum).toBe(first.payment.amount * 2);
    expect(dash.body.data.mrr).toBe(first.payment.amount); // monthly plan (30 days), only the auto-renewing one
    expect(dash.body.data.stuck_sessions).toBe(0);

    const byTg = await admin("GET", `/api/v1/admin/payments?search=${telegramId}`);
    expect(byTg.body.data.total).toBe(1);
    expect(byTg.body.data.items[0]).toMatchObject({
      id: first.payment.id,
      status: "success",
      refundable: true,
    });
    const byCard = await admin("GET", `/api/v1/admin/payments?search=${first.payment.cardMasked!.slice(-4)}`);
    expect(byCard.body.data.items.map((p: Json) => p.id)).toEqual([first.payment.id]);

    const page1 = await admin("GET", "/api/v1/admin/payments?limit=1&offset=0");
    const page2 = await admin("GET", "/api/v1/admin/payments?limit=1&offset=1");
    expect(page1.body.data.total).toBe(2);
    expect(page1.body.data.items[0].id).not.toBe(page2.body.data.items[0].id);

    const sessions = await admin(
      "GET",
      `/api/v1/admin/payment-sessions?status=completed&search=${telegramId}`,
    );
    expect(sessions.body.data.items[0]).toMatchObject({
      id: first.prepared.sessionId,
      payment_url: `http://miniapp.test/?session_id=${first.prepared.sessionId}`,
      card_masked: first.payment.cardMasked,
      auto_renew: true,
      payment_status: "success",
    });

    const cards = await admin("GET", `/api/v1/admin/cards?active=true&search=${telegramId}`);
    expect(cards.body.data.total).toBe(1);
    expect(JSON.stringify(cards.body)).not.toMatch(/token/i);

    const subs = await admin("GET", "/api/v1/admin/subscriptions?auto_renew=true");
    expect(subs.body.data.items.map((s: Json) => s.id)).toEqual([first.subscriptionId]);
    const usersList = await admin("GET", `/api/v1/admin/users?search=${telegramId}`);
    expect(usersList.body.data.items[0]).toMatchObject({ telegram_id: telegramId, role: "premium" });

    const badQuery = await admin("GET", "/api/v1/admin/payments?limit=5000");
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error).toMatchObject({ code: "VALIDATION_ERROR", field: "limit" });
  });
});

describe("admin actions", () => {
  it("the audit actor is the authenticated identity, whatever the request body claims", async () => {
    const { prepared } = await paid({ autoRenew: true, card: "humo3" });
    const [user] = await h.db.db.select().from(users).where(eq(users.telegramId, prepared.telegramId));
    const [card] = await h.db.db.select().from(boundCards).where(eq(boundCards.userId, user!.id));
    const path = `/api/v1/admin/cards/${card!.id}`;
    const tokenSession = await admin("POST", "/api/v1/admin/session", {
      auth: null,
      body: { token: ADMIN_TOKEN, actor: "tg:1" },
    });
    const off = await admin("POST", `${path}/deactivate`, {
      auth: `Bearer ${tokenSession.body.data.session_token}`,
      body: { reason: "claims to be someone else", actor: "tg:1" },
    });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    const tgSession = await admin("POST", "/api/v1/admin/session/telegram", { auth: tma(ADMIN_TG) });
    const on = await admin("POST", `${path}/reactivate`, {
      auth: `Bearer ${tgSession.body.data.session_token}`,
      body: { reason: "claims to be the token admin", actor: "admin" },
    });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    const rows = await auditRows("bound_card", card!.id);
    expect(rows.map((r) => [r.action, r.actor]).sort()).toEqual([
      ["card.deactivated", "admin"],
      ["card.reactivated", `tg:${ADMIN_TG}`],
    ]);
  });

  it("deactivate/reactivate a card: one audit row each, in the same transaction; refusals write none", async () => {
    const { prepared } = await paid({ autoRenew: true, card: "humo3" });
    const [user] = await h.db.db.select().from(users).where(eq(users.telegramId, prepared.telegramId));
    const [card] = await h.db.db.select().from(boundCards).where(eq(boundCards.userId, user!.id));
    const path = `/api/v1/admin/cards/${card!.id}`;

    const noReason = await admin("POST", `${path}/deactivate`, { body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.field).toBe("reason");
    expect(await auditRows("bound_card", card!.id)).toHaveLength(0);

    const off = await admin("POST", `${path}/deactivate`, {
      body: { reason: "customer asked by phone" },
      headers: { "idempotency-key": "deact-1" },
    });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body.data.card.is_active).toBe(false);
    const replay = await admin("POST", `${path}/deactivate`, {
      body: { reason: "customer asked by phone" },
      headers: { "idempotency-key": "deact-1" },
    });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(off.body);
    const again = await admin("POST", `${path}/deactivate`, { body: { reason: "second time" } });
    expect(again.status).toBe(409);
    let rows = await auditRows("bound_card", card!.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor: "admin",
      action: "card.deactivated",
      reason: "customer asked by phone",
    });
    expect(rows[0]!.id).toBe(off.body.data.audit_id);

    const on = await admin("POST", `${path}/reactivate`, { body: { reason: "phone call resolved" } });
    expect(on.body.data.card.is_active).toBe(true);
    rows = await auditRows("bound_card", card!.id);
    expect(rows.map((r) => r.action).sort()).toEqual(["card.deactivated", "card.reactivated"]);

    expect(
      (await admin("POST", "/api/v1/admin/cards/999999/deactivate", { body: { reason: "nothing" } })).status,
    ).toBe(404);
  });

  it("remove a card at ATMOS: an ATMOS failure changes nothing and writes no audit row; then removed + auto-renew off", async () => {
    const { prepared, subscriptionId } = await paid({ autoRenew: true, card: "humo4" });
    const [user] = await h.db.db.select().from(users).where(eq(users.telegramId, prepared.telegramId));
    const [card] = await h.db.db.select().from(boundCards).where(eq(boundCards.userId, user!.id));
    h.sandbox.configure({ faultPath: "/partner/remove-card", failNext: 5 });
    try {
      const failed = await admin("POST", `/api/v1/admin/cards/${card!.id}/remove`, {
        body: { reason: "fraud report" },
      });
      expect(failed.status).toBe(503);
      expect(failed.body.error.code).toBe("PAYMENT_PROVIDER_UNAVAILABLE");
    } finally {
      h.sandbox.configure({ faultPath: null, failNext: 0 });
    }
    expect(await auditRows("bound_card", card!.id)).toHaveLength(0);
    const [unchanged] = await h.db.db.select().from(boundCards).where(eq(boundCards.id, card!.id));
    expect(unchanged!.removedAt).toBeNull();

    const removed = await admin("POST", `/api/v1/admin/cards/${card!.id}/remove`, {
      body: { reason: "fraud report" },
    });
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body.data.card).toMatchObject({ is_active: false });
    expect(removed.body.data.card.removed_at).not.toBeNull();
    const [sub] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    expect(sub!.autoRenew).toBe(false);
    expect(await auditRows("bound_card", card!.id)).toHaveLength(1);
    expect(
      (await admin("POST", `/api/v1/admin/cards/${card!.id}/reactivate`, { body: { reason: "undo" } }))
        .status,
    ).toBe(409);
  });

  it("refund: ATMOS reverse in the ledger, payment reversed, the subscription loses the period, role back; a second refund is refused", async () => {
    const { prepared, payment, subscriptionId } = await paid({ card: "uzcard2" });
    const refund = await admin("POST", `/api/v1/admin/payments/${payment.id}/refund`, {
      body: { reason: "double purchase by mistake" },
      headers: { "idempotency-key": "refund-1" },
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(200);
    expect(refund.body.data.payment).toMatchObject({
      status: "reversed",
      reverse_reason: "double purchase by mistake",
      refundable: false,
    });
    expect(refund.body.data.subscription).toMatchObject({
      id: subscriptionId,
      status: "expired",
      is_active: false,
    });
    const ledger = h.sandbox.ledger().find((t) => t.transactionId === prepared.transactionId);
    expect(ledger).toMatchObject({ state: "reversed", reversed: true });
    const [sub] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    expect(sub!.endDate.getTime()).toBe(payment.periodStart!.getTime());
    const [user] = await h.db.db.select().from(users).where(eq(users.telegramId, prepared.telegramId));
    expect(user!.role).toBe("user");

    const replay = await admin("POST", `/api/v1/admin/payments/${payment.id}/refund`, {
      body: { reason: "double purchase by mistake" },
      headers: { "idempotency-key": "refund-1" },
    });
    expect(replay.body).toEqual(refund.body);
    const second = await admin("POST", `/api/v1/admin/payments/${payment.id}/refund`, {
      body: { reason: "again please" },
    });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("INVALID_STATE");
    const rows = await auditRows("payment", payment.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "payment.refunded", reason: "double purchase by mistake" });
    expect(h.sandbox.ledger().filter((t) => t.transactionId === prepared.transactionId)).toHaveLength(1);
  });

  it("refund of a renewed subscription moves end_date back by the period only", async () => {
    const telegramId = randomTelegramId();
    const first = await paid({ card: "humo1", telegramId });
    const second = await paid({ card: "humo1", telegramId });
    expect(second.subscriptionId).toBe(first.subscriptionId);
    const [before] = await h.db.db
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.id, first.subscriptionId));
    const res = await admin("POST", `/api/v1/admin/payments/${second.payment.id}/refund`, {
      body: { reason: "paid twice" },
    });
    expect(res.status).toBe(200);
    const length = second.payment.periodEnd!.getTime() - second.payment.periodStart!.getTime();
    expect(Date.parse(res.body.data.subscription.end_date)).toBe(before!.endDate.getTime() - length);
    expect(res.body.data.subscription.status).toBe("active");
  });

  it("refund whose ATMOS answer is unknown: nothing marked reversed, a refund_unknown audit row, 503", async () => {
    const { payment } = await paid({ card: "humo2" });
    h.sandbox.configure({ faultPath: "/merchant/pay/", failNext: 20 });
    let res: { status: number; body: Json };
    try {
      res = await admin("POST", `/api/v1/admin/payments/${payment.id}/refund`, {
        body: { reason: "customer complaint" },
      });
    } finally {
      h.sandbox.configure({ faultPath: null, failNext: 0 });
    }
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({
      code: "PAYMENT_PROVIDER_UNAVAILABLE",
      details: { outcome: "unknown" },
    });
    const [row] = await h.db.db.select().from(payments).where(eq(payments.id, payment.id));
    expect(row!.status).toBe("success");
    const rows = await auditRows("payment", payment.id);
    expect(rows.map((r) => r.action)).toEqual(["payment.refund_unknown"]);
  });

  it("refund the provider refuses (no such settled charge there): 409 with its error kind, nothing changed, no audit row", async () => {
    const { prepared, payment } = await paid({ card: "humo3" });
    // ATMOS reverses by success_trans_id: one it never issued is a definite "not found".
    await h.db.db.update(payments).set({ settlementId: "987654321" }).where(eq(payments.id, payment.id));
    const res = await admin("POST", `/api/v1/admin/payments/${payment.id}/refund`, {
      body: { reason: "customer complaint" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error).toMatchObject({
      code: "INVALID_STATE",
      details: { atmos_error: "payment_not_found" },
    });
    expect(res.body.error.message).toMatch(/^ATMOS refused the refund: /);
    const [row] = await h.db.db.select().from(payments).where(eq(payments.id, payment.id));
    expect(row!.status).toBe("success");
    expect(await auditRows("payment", payment.id)).toHaveLength(0);
    expect(h.sandbox.ledger().find((t) => t.transactionId === prepared.transactionId)?.state).toBe(
      "confirmed",
    );
  });

  it("refusing to refund a payment that is not successful", async () => {
    const prepared = await prepareSession(h, { card: "humo1" });
    await apply(h, prepared, "000000"); // wrong code: payment stays pending
    const [row] = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    const res = await admin("POST", `/api/v1/admin/payments/${row!.id}/refund`, {
      body: { reason: "not paid" },
    });
    expect(res.status).toBe(409);
    expect(await auditRows("payment", row!.id)).toHaveLength(0);
    expect(
      (await admin("POST", "/api/v1/admin/payments/987654/refund", { body: { reason: "nothing" } })).status,
    ).toBe(404);
  });

  it("the change and its audit row commit together: a failing audit insert rolls the change back", async () => {
    const { subscriptionId } = await paid({ card: "humo4" });
    const [before] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    await h.db.client.unsafe(`
      create or replace function admin_test_refuse_audit() returns trigger language plpgsql as $$
      begin if new.reason = 'make the audit fail' then raise exception 'audit refused'; end if; return new; end $$;
      create trigger admin_test_refuse_audit before insert on audit_log
        for each row execute function admin_test_refuse_audit();`);
    try {
      const res = await admin("POST", `/api/v1/admin/subscriptions/${subscriptionId}/extend`, {
        body: { days: 5, reason: "make the audit fail" },
      });
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe("INTERNAL_ERROR");
    } finally {
      await h.db.client.unsafe(
        "drop trigger admin_test_refuse_audit on audit_log; drop function admin_test_refuse_audit();",
      );
    }
    const [after] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    expect(after!.endDate.getTime()).toBe(before!.endDate.getTime());
    expect(await auditRows("subscription", subscriptionId)).toHaveLength(0);
  });

  it("extend by N days and cancel now: audit rows, role back to user on cancel", async () => {
    const { prepared, subscriptionId } = await paid({ card: "humo3" });
    const [before] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    const ext = await admin("POST", `/api/v1/admin/subscriptions/${subscriptionId}/extend`, {
      body: { days: 10, reason: "outage compensation" },
    });
    expect(ext.status, JSON.stringify(ext.body)).toBe(200);
    expect(Date.parse(ext.body.data.subscription.end_date)).toBe(before!.endDate.getTime() + 10 * DAY);
    const zero = await admin("POST", `/api/v1/admin/subscriptions/${subscriptionId}/extend`, {
      body: { days: 0, reason: "nothing" },
    });
    expect(zero.status).toBe(400);

    const exchanged = await admin("POST", "/api/v1/admin/session/telegram", { auth: tma(ADMIN_TG) });
    const cancel = await admin("POST", `/api/v1/admin/subscriptions/${subscriptionId}/cancel`, {
      auth: `Bearer ${exchanged.body.data.session_token}`,
      body: { reason: "terms violation" },
    });
    expect(cancel.status).toBe(200);
    expect(cancel.body.data.subscription).toMatchObject({
      status: "canceled",
      is_active: false,
      auto_renew: false,
    });
    const [user] = await h.db.db.select().from(users).where(eq(users.telegramId, prepared.telegramId));
    expect(user!.role).toBe("user");
    const again = await admin("POST", `/api/v1/admin/subscriptions/${subscriptionId}/cancel`, {
      body: { reason: "again" },
    });
    expect(again.status).toBe(409);
    const rows = await auditRows("subscription", subscriptionId);
    expect(rows.map((r) => [r.action, r.actor])).toEqual([
      ["subscription.extended", "admin"],
      ["subscription.canceled", `tg:${ADMIN_TG}`],
    ]);

    const log = await admin(
      "GET",
      `/api/v1/admin/audit-log?entity_type=subscription&entity_id=${subscriptionId}`,
    );
    expect(log.body.data.total).toBe(2);
    expect(log.body.data.items[0]).toMatchObject({
      action: "subscription.canceled",
      reason: "terms violation",
    });
  });

  it("the admin OpenAPI document (admin credentials only) lists the admin endpoints; the public one does not", async () => {
    const refused = await admin("GET", "/api/v1/admin/openapi.json", { auth: null });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("UNAUTHORIZED");
    expect((await admin("GET", "/api/v1/admin/openapi.json", { auth: internalAuth })).status).toBe(401);
    const doc = (await admin("GET", "/api/v1/admin/openapi.json")).body;
    expect(doc.paths["/api/v1/admin/payments/{id}/refund"].post.responses["401"]).toBeDefined();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/api/v1/admin"))).toHaveLength(
      ENDPOINTS.length + 1,
    );
    const publicDoc = (await (await adminApp.request("/openapi.json")).json()) as Json;
    expect(Object.keys(publicDoc.paths).filter((p) => p.startsWith("/api/v1/admin"))).toEqual([]);
    expect(publicDoc.paths["/api/v1/atmos/apply"]).toBeDefined();
    expect(JSON.stringify(publicDoc)).not.toContain("adminToken");
  });

  it("/metrics needs the METRICS_TOKEN bearer; without METRICS_TOKEN it is never served", async () => {
    for (const auth of [undefined, "Bearer wrong-metrics-token-0000", bearer, internalAuth]) {
      const res = await adminApp.request("/metrics", auth ? { headers: { authorization: auth } } : {});
      expect(res.status, String(auth)).toBe(401);
      const body = (await res.json()) as Json;
      expect(body.error.code).toBe("UNAUTHORIZED");
    }
    const off = createApp({ ...gatewayDeps(), config: testGatewayConfig({ metricsToken: undefined }) });
    const res = await off.request("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(401);
  });

  it("metrics expose admin actions and database-derived payment and renewal figures", async () => {
    const text = await (
      await adminApp.request("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    expect(text).toMatch(/gateway_admin_actions_total\{action="payment.refunded",outcome="ok"\} \d+/);
    expect(text).toMatch(/obuna_payments_24h\{kind="initial",status="success"\} \d+/);
    expect(text).toContain("obuna_unknown_outcomes");
    expect(text).toContain("gateway_atmos_call_duration_seconds");
  });

  it("a stuck session and an unknown outcome: the dashboard and /metrics count the same rows", async () => {
    const figures = async () => {
      const dash = (await admin("GET", "/api/v1/admin/dashboard")).body.data;
      const text = await (
        await adminApp.request("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
      ).text();
      const gauge = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
      return {
        dashboard: { stuck: dash.stuck_sessions, unknown: dash.unknown_outcomes.payments },
        metrics: {
          stuck: gauge(/^obuna_stuck_sessions (\d+)$/m),
          unknown: gauge(/^obuna_unknown_outcomes\{source="payments"\} (\d+)$/m),
        },
      };
    };
    const before = await figures();
    expect(before.metrics).toEqual(before.dashboard);

    // Two sessions left in processing for 11 and 12 minutes (stuck after 10), one that has been there
    // 9 (not yet), and one payment whose outcome is unknown.
    const now = Date.now() + h.clock.offsetMs;
    const stuck = await prepareSession(h);
    const stuckLonger = await prepareSession(h);
    const recent = await prepareSession(h);
    for (const [sessionId, ageMs] of [
      [stuck.sessionId, 11 * 60_000],
      [stuckLonger.sessionId, 12 * 60_000],
      [recent.sessionId, 9 * 60_000],
    ] as const) {
      await h.db.db
        .update(paymentSessions)
        .set({ status: "processing", updatedAt: new Date(now - ageMs) })
        .where(eq(paymentSessions.id, sessionId));
    }
    const [session] = await h.db.db
      .select()
      .from(paymentSessions)
      .where(eq(paymentSessions.id, stuck.sessionId));
    await h.db.db.insert(payments).values({
      userId: session!.userId,
      sessionId: session!.id,
      kind: "initial",
      status: "unknown",
      amount: session!.amount,
      idempotencyKey: `session:${session!.id}`,
    });

    const after = await figures();
    expect(after.dashboard).toEqual({
      stuck: before.dashboard.stuck + 2,
      unknown: before.dashboard.unknown + 1,
    });
    expect(after.metrics).toEqual(after.dashboard);
  });
});
