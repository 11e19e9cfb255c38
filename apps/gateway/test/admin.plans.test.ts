import { createAtmosClient } from "@obuna/atmos";
import { QUEUES } from "@obuna/contracts/jobs";
import { auditLog, payments, plans, subscriptions } from "@obuna/db/schema";
import { testRedisUrl } from "@obuna/db/testing";
import { Queue } from "bullmq";
import { and, eq, like } from "drizzle-orm";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { REDIS_DB_INDEX, STORE_ID } from "./constants";
import {
  apply,
  call,
  createSession,
  type Harness,
  type Json,
  prepareSession,
  randomTelegramId,
  SANDBOX_CARDS,
  sandboxRail,
  startHarness,
  testGatewayConfig,
  tma,
  uniqueKey,
} from "./harness";

/** Plans in admin (create / edit / price change, audited) and the public offer at checkout. */

const ADMIN_TOKEN = "gateway-test-admin-token-0123456789";
const OFFER = { url: "https://obuna.example/oferta", version: "2026-11" };

let h: Harness;
let adminApp: ReturnType<typeof createApp>;
/** This file's own notifications queue (own key prefix): its payments' jobs never meet other files' ids. */
let notifications: Queue;

beforeAll(async () => {
  notifications = new Queue(QUEUES.notifications, {
    prefix: "i16-plans-test",
    connection: new Redis(testRedisUrl(REDIS_DB_INDEX), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    }),
  });
  await notifications.waitUntilReady();
  h = await startHarness({ offer: OFFER, priceChangeNoticeDays: 30 }, { notificationsQueue: notifications });
  adminApp = createApp(
    {
      db: h.db.db,
      ...sandboxRail(
        createAtmosClient({
          baseUrl: h.sandbox.url,
          consumerKey: "sandbox_consumer_key",
          consumerSecret: "sandbox_consumer_secret",
          storeId: STORE_ID,
          timeoutMs: 5_000,
        }),
      ),
      notificationsQueue: notifications,
      redis: h.redis,
      logger: pino({ level: "silent" }),
      clock: () => new Date(Date.now() + h.clock.offsetMs),
      config: testGatewayConfig({
        offer: OFFER,
        priceChangeNoticeDays: 30,
        rateLimits: { adminSignInPerIpPer15Min: 1000 },
      }),
    },
    { admin: { adminToken: ADMIN_TOKEN, sessionTtlS: 3600 } },
  );
});
afterAll(async () => {
  // The plans stay in the test database for the next files: take this file's out of sale.
  await h?.db.db.update(plans).set({ isActive: false }).where(like(plans.slug, "test-%"));
  await notifications?.obliterate({ force: true });
  await notifications?.close();
  await h?.close();
});

async function admin(
  method: string,
  path: string,
  options: { auth?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  const auth = options.auth === undefined ? `Bearer ${ADMIN_TOKEN}` : options.auth;
  if (auth) headers.authorization = auth;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await adminApp.request(path, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body: body as Json };
}

const planAudit = async (planId: number) =>
  h.db.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.entityType, "plan"), eq(auditLog.entityId, String(planId))));

let slugCounter = 0;
function newPlanBody(overrides: Record<string, unknown> = {}) {
  slugCounter++;
  return {
    slug: `test-${slugCounter}-${randomTelegramId()}`,
    name_uz: "Sinov oylik",
    name_ru: "Тест месяц",
    name_en: "Test month",
    price: 1_500_000,
    duration_days: 30,
    sort_order: 10,
    reason: "new offer for the test",
    ...overrides,
  };
}

async function createPlan(overrides: Record<string, unknown> = {}) {
  const res = await admin("POST", "/api/v1/admin/plans", { body: newPlanBody(overrides) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data.plan as Json;
}

describe("plans in admin", () => {
  it("every plan endpoint refuses requests without admin credentials (401), writing nothing", async () => {
    const before = await h.db.db.select().from(plans);
    for (const [method, path, body] of [
      ["GET", "/api/v1/admin/plans", undefined],
      ["POST", "/api/v1/admin/plans", newPlanBody()],
      ["POST", "/api/v1/admin/plans/1/edit", { name_en: "x", reason: "no credentials" }],
      ["POST", "/api/v1/admin/plans/1/price", { price: 100_000, reason: "no credentials" }],
      ["GET", "/api/v1/admin/dashboard/series", undefined],
    ] as const) {
      for (const auth of [null, "Bearer wrong-admin-token-000000000", tma(randomTelegramId())]) {
        const res = await admin(method, path, { auth, ...(body ? { body } : {}) });
        expect(res.status, `${method} ${path} ${auth}`).toBe(401);
        expect(res.body.error.code).toBe("UNAUTHORIZED");
      }
    }
    expect(await h.db.db.select().from(plans)).toEqual(before);
  });

  it("create: the plan and its audit row; a taken slug or a bad body writes nothing", async () => {
    const body = newPlanBody();
    const created = await admin("POST", "/api/v1/admin/plans", { body });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const plan = created.body.data.plan;
    expect(plan).toMatchObject({
      slug: body.slug,
      name_uz: "Sinov oylik",
      name_ru: "Тест месяц",
      name_en: "Test month",
      price: 1_500_000,
      price_formatted: "15 000 so'm",
      duration_days: 30,
      is_active: true,
      sort_order: 10,
      live_subscriptions: 0,
    });
    const rows = await planAudit(plan.id);
    expect(rows.map((r) => [r.action, r.actor, r.reason, r.id])).toEqual([
      ["plan.created", "admin", body.reason, created.body.data.audit_id],
    ]);

    const taken = await admin("POST", "/api/v1/admin/plans", { body: { ...body, reason: "again" } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe("INVALID_STATE");
    for (const bad of [
      { ...newPlanBody(), reason: "no" },
      { ...newPlanBody(), price: 0 },
      { ...newPlanBody(), price: 150.5 },
      { ...newPlanBody(), duration_days: 0 },
      { ...newPlanBody(), slug: "Has Spaces" },
      { ...newPlanBody(), name_ru: "" },
    ]) {
      const res = await admin("POST", "/api/v1/admin/plans", { body: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
    expect(await h.db.db.select().from(plans).where(eq(plans.slug, body.slug))).toHaveLength(1);
    expect(await planAudit(plan.id)).toHaveLength(1);
    const list = await admin("GET", "/api/v1/admin/plans");
    expect(list.body.data.price_change_notice_days).toBe(30);
    expect(list.body.data.items.map((p: Json) => p.slug)).toContain(body.slug);
  });

  it("Idempotency-Key: a retried create replays the first answer and creates one plan; another body → 422", async () => {
    const key = uniqueKey();
    const body = newPlanBody();
    const first = await admin("POST", "/api/v1/admin/plans", { body, headers: { "idempotency-key": key } });
    const second = await admin("POST", "/api/v1/admin/plans", { body, headers: { "idempotency-key": key } });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await h.db.db.select().from(plans).where(eq(plans.slug, body.slug))).toHaveLength(1);
    expect(await planAudit(first.body.data.plan.id)).toHaveLength(1);
    const other = await admin("POST", "/api/v1/admin/plans", {
      body: { ...body, slug: `${body.slug}-x` },
      headers: { "idempotency-key": key },
    });
    expect(other.status).toBe(422);
    expect(
      await h.db.db
        .select()
        .from(plans)
        .where(eq(plans.slug, `${body.slug}-x`)),
    ).toHaveLength(0);

    const priceKey = uniqueKey();
    const price = { price: 1_700_000, reason: "retried price change" };
    const p1 = await admin("POST", `/api/v1/admin/plans/${first.body.data.plan.id}/price`, {
      body: price,
      headers: { "idempotency-key": priceKey },
    });
    const p2 = await admin("POST", `/api/v1/admin/plans/${first.body.data.plan.id}/price`, {
      body: price,
      headers: { "idempotency-key": priceKey },
    });
    expect(p1.status).toBe(200);
    expect(p2.body).toEqual(p1.body);
    expect((await planAudit(first.body.data.plan.id)).map((r) => r.action)).toEqual([
      "plan.created",
      "plan.price_changed",
    ]);
  });

  it("edit: names, period, active flag, sort order — audited with from/to; no change or unknown plan writes nothing", async () => {
    const plan = await createPlan();
    const edited = await admin("POST", `/api/v1/admin/plans/${plan.id}/edit`, {
      body: { name_en: "Test 60 days", duration_days: 60, is_active: false, sort_order: 3, reason: "longer" },
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.data.plan).toMatchObject({
      name_en: "Test 60 days",
      name_uz: "Sinov oylik",
      duration_days: 60,
      is_active: false,
      sort_order: 3,
      price: 1_500_000,
    });
    const rows = await planAudit(plan.id);
    expect(rows.map((r) => r.action)).toEqual(["plan.created", "plan.updated"]);
    expect((rows[1]!.details as Json).changes).toEqual({
      name_en: { from: "Test month", to: "Test 60 days" },
      duration_days: { from: 30, to: 60 },
      is_active: { from: true, to: false },
      sort_order: { from: 10, to: 3 },
    });
    // An inactive plan is no longer sold.
    const link = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: `Bearer ${testGatewayConfig().internalApiToken}`,
      body: { telegram_id: randomTelegramId(), plan_slug: plan.slug },
    });
    expect(link.status).toBe(404);

    const same = await admin("POST", `/api/v1/admin/plans/${plan.id}/edit`, {
      body: { duration_days: 60, reason: "nothing changes" },
    });
    expect(same.status).toBe(409);
    const empty = await admin("POST", `/api/v1/admin/plans/${plan.id}/edit`, {
      body: { reason: "empty edit" },
    });
    expect(empty.status).toBe(400);
    const price = await admin("POST", `/api/v1/admin/plans/${plan.id}/edit`, {
      body: { price: 1, reason: "price is not editable here" },
    });
    expect(price.status).toBe(400);
    const missing = await admin("POST", "/api/v1/admin/plans/999999/edit", {
      body: { name_en: "x", reason: "no such plan" },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("PLAN_NOT_FOUND");
    expect(await planAudit(plan.id)).toHaveLength(2);
    const [row] = await h.db.db.select().from(plans).where(eq(plans.id, plan.id));
    expect(row!.durationDays).toBe(60);
    expect(row!.price).toBe(1_500_000);
  });

  it("Stars price: seeded on the monthly plan, set on create, edited (audited from/to) and cleared; 0 is a 400, nothing written", async () => {
    const list = await admin("GET", "/api/v1/admin/plans");
    const monthly = (list.body.data.items as Json[]).find((p) => p.slug === "monthly");
    expect(monthly.stars_price).toBe(150);
    const plain = await createPlan();
    expect(plain.stars_price).toBeNull();
    const starred = await createPlan({ stars_price: 99 });
    expect(starred.stars_price).toBe(99);
    const edited = await admin("POST", `/api/v1/admin/plans/${plain.id}/edit`, {
      body: { stars_price: 250, reason: "sell it for Stars too" },
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.data.plan.stars_price).toBe(250);
    const rows = await planAudit(plain.id);
    expect((rows.at(-1)!.details as Json).changes).toEqual({ stars_price: { from: null, to: 250 } });
    const zero = await admin("POST", `/api/v1/admin/plans/${plain.id}/edit`, {
      body: { stars_price: 0, reason: "zero is not a price" },
    });
    expect(zero.status).toBe(400);
    const cleared = await admin("POST", `/api/v1/admin/plans/${plain.id}/edit`, {
      body: { stars_price: null, reason: "no longer for Stars" },
    });
    expect(cleared.body.data.plan.stars_price).toBeNull();
  });

  it("fiscal codes: placeholders by default, set on create and edit (audited from/to); a 16-digit IKPU or VAT 101 is a 400 naming the field, nothing written", async () => {
    const plain = await createPlan();
    expect(plain).toMatchObject({
      ikpu_code: "00000000000000000",
      package_code: "0000000",
      vat_percent: 12,
      fiscal_placeholder: true,
    });
    const coded = await createPlan({
      ikpu_code: "10305008002000000",
      package_code: "1501181",
      vat_percent: 0,
    });
    expect(coded).toMatchObject({
      ikpu_code: "10305008002000000",
      package_code: "1501181",
      vat_percent: 0,
      fiscal_placeholder: false,
    });
    expect((await planAudit(coded.id))[0]!.details).toMatchObject({
      ikpuCode: "10305008002000000",
      packageCode: "1501181",
      vatPercent: 0,
    });

    const key = uniqueKey();
    const body = {
      ikpu_code: "10399002001000000",
      package_code: "1545649",
      vat_percent: 12,
      reason: "real codes",
    };
    const edited = await admin("POST", `/api/v1/admin/plans/${plain.id}/edit`, {
      body,
      headers: { "idempotency-key": key },
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.data.plan).toMatchObject({
      ikpu_code: "10399002001000000",
      package_code: "1545649",
      vat_percent: 12,
      fiscal_placeholder: false,
    });
    const replay = await admin("POST", `/api/v1/admin/plans/${plain.id}/edit`, {
      body,
      headers: { "idempotency-key": key },
    });
    expect(replay.body).toEqual(edited.body);
    const rows = await planAudit(plain.id);
    expect(rows.map((r) => r.action)).toEqual(["plan.created", "plan.updated"]);
    expect((rows[1]!.details as Json).changes).toEqual({
      ikpu_code: { from: "00000000000000000", to: "10399002001000000" },
      package_code: { from: "0000000", to: "1545649" },
    });
    const vat = await admin("POST", `/api/v1/admin/plans/${plain.id}/edit`, {
      body: { vat_percent: 0, reason: "not a VAT payer" },
    });
    expect(vat.status).toBe(200);
    expect(((await planAudit(plain.id))[2]!.details as Json).changes).toEqual({
      vat_percent: { from: 12, to: 0 },
    });

    const before = await h.db.db.select().from(plans).where(eq(plans.id, plain.id));
    for (const [field, value] of [
      ["ikpu_code", "1039900200100000"],
      ["ikpu_code", "103990020010000001"],
      ["ikpu_code", "1039900200100000x"],
      ["package_code", ""],
      ["package_code", "12a"],
      ["package_code", "123456789012345678901"],
      ["vat_percent", 101],
      ["vat_percent", -1],
      ["vat_percent", 12.5],
    ] as const) {
      const edit = await admin("POST", `/api/v1/admin/plans/${plain.id}/edit`, {
        body: { [field]: value, reason: "bad fiscal value" },
      });
      expect(edit.status, `${field}=${value} ${JSON.stringify(edit.body)}`).toBe(400);
      expect(edit.body.error.code).toBe("VALIDATION_ERROR");
      expect(edit.body.error.field).toBe(field);
      const create = newPlanBody({ [field]: value });
      const created = await admin("POST", "/api/v1/admin/plans", { body: create });
      expect(created.status, `${field}=${value}`).toBe(400);
      expect(created.body.error.field).toBe(field);
      expect(await h.db.db.select().from(plans).where(eq(plans.slug, create.slug))).toHaveLength(0);
    }
    expect(await h.db.db.select().from(plans).where(eq(plans.id, plain.id))).toEqual(before);
    expect(await planAudit(plain.id)).toHaveLength(3);

    const list = await admin("GET", "/api/v1/admin/plans");
    const listed = list.body.data.items.find((p: Json) => p.id === plain.id);
    expect(listed).toMatchObject({
      ikpu_code: "10399002001000000",
      vat_percent: 0,
      fiscal_placeholder: false,
    });
  });

  it("price change: new purchases pay it at once; live subscribers keep their price, pinned, and owe a notice", async () => {
    const plan = await createPlan({ price: 1_500_000 });
    // A subscriber who paid 15 000 so'm, and a checkout opened at that price but paid after the change.
    const subscriber = await prepareSession(h, { plan: plan.slug, autoRenew: true, card: "humo1" });
    const paid = await apply(h, subscriber);
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    const subscriptionId = paid.body.data.subscription.id as number;
    const [before] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    expect(before!.renewalPrice).toBeNull();
    const inFlight = await prepareSession(h, { plan: plan.slug, card: "uzcard1" });

    const mrr = async () => (await admin("GET", "/api/v1/admin/dashboard")).body.data.mrr as number;
    const mrrBefore = await mrr();
    const same = await admin("POST", `/api/v1/admin/plans/${plan.id}/price`, {
      body: { price: 1_500_000, reason: "same price" },
    });
    expect(same.status).toBe(409);

    const changed = await admin("POST", `/api/v1/admin/plans/${plan.id}/price`, {
      body: { price: 1_900_000, reason: "costs went up" },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.data.plan).toMatchObject({
      price: 1_900_000,
      live_subscriptions: 1,
      on_other_price: 1,
    });
    expect(changed.body.data.subscriptions_to_notify).toBe(1);
    const rows = await planAudit(plan.id);
    expect(rows.map((r) => r.action)).toEqual(["plan.created", "plan.price_changed"]);
    expect(rows[1]!.details).toMatchObject({
      previousPrice: 1_500_000,
      newPrice: 1_900_000,
      subscriptionsToNotify: 1,
      noticeDays: 30,
    });
    const [after] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    expect(after).toMatchObject({
      renewalPrice: 1_500_000,
      newRenewalPrice: 1_900_000,
      newPriceNoticeSentAt: null,
    });
    expect(after!.newPriceSetAt).not.toBeNull();
    // MRR counts what the subscriber will actually be charged: still the old price.
    expect(await mrr()).toBe(mrrBefore);

    // New purchases: the new price at once.
    const link = await createSession(h, randomTelegramId(), plan.slug);
    expect(link.plan.price_raw).toBe(1_900_000);
    // The checkout opened before the change pays its old amount; renewals owe the notice too.
    const late = await apply(h, inFlight);
    expect(late.status).toBe(200);
    expect(late.body.data.amount).toBe(1_500_000);
    const [lateSub] = await h.db.db
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.id, late.body.data.subscription.id));
    expect(lateSub).toMatchObject({ renewalPrice: 1_500_000, newRenewalPrice: 1_900_000 });

    // Back to the old price: nobody owes a notice any more, everyone is on the list price again.
    const back = await admin("POST", `/api/v1/admin/plans/${plan.id}/price`, {
      body: { price: 1_500_000, reason: "rolled back" },
    });
    expect(back.status).toBe(200);
    expect(back.body.data.subscriptions_to_notify).toBe(0);
    const [rolled] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    expect(rolled).toMatchObject({ renewalPrice: null, newRenewalPrice: null, newPriceSetAt: null });
  });

  it("the price change and its audit row commit together: a failing audit insert changes no price", async () => {
    const plan = await createPlan({ price: 2_000_000 });
    const prepared = await prepareSession(h, { plan: plan.slug, autoRenew: true, card: "humo2" });
    const paid = await apply(h, prepared);
    const subscriptionId = paid.body.data.subscription.id as number;
    await h.db.client.unsafe(`
      create or replace function plans_test_refuse_audit() returns trigger language plpgsql as $$
      begin if new.reason = 'make the audit fail' then raise exception 'audit refused'; end if; return new; end $$;
      create trigger plans_test_refuse_audit before insert on audit_log
        for each row execute function plans_test_refuse_audit();`);
    try {
      const res = await admin("POST", `/api/v1/admin/plans/${plan.id}/price`, {
        body: { price: 2_500_000, reason: "make the audit fail" },
      });
      expect(res.status).toBe(500);
    } finally {
      await h.db.client.unsafe(
        "drop trigger plans_test_refuse_audit on audit_log; drop function plans_test_refuse_audit();",
      );
    }
    const [row] = await h.db.db.select().from(plans).where(eq(plans.id, plan.id));
    expect(row!.price).toBe(2_000_000);
    const [sub] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    expect(sub).toMatchObject({ renewalPrice: null, newRenewalPrice: null, newPriceSetAt: null });
    expect((await planAudit(plan.id)).map((r) => r.action)).toEqual(["plan.created"]);
  });
});

describe("public offer at checkout", () => {
  it("the session view carries OFFER_URL/OFFER_VERSION; the payment records the accepted version and time", async () => {
    const telegramId = randomTelegramId();
    const auth = tma(telegramId);
    const link = await createSession(h, telegramId);
    const view = await call(h, "GET", `/api/v1/payment/session/${link.session_id}`, { auth });
    expect(view.body.data.offer).toEqual(OFFER);
    const created = await call(h, "POST", "/api/v1/atmos/create", {
      auth,
      body: { session_id: link.session_id, amount: view.body.data.amount, auto_renew: false },
    });
    const transactionId = created.body.data.transaction_id as number;
    const card = { card_number: SANDBOX_CARDS.humo1.pan, expiry: SANDBOX_CARDS.humo1.expiry };
    // A version the payer did not see (the offer changed meanwhile) is refused before ATMOS is asked.
    const stale = await call(h, "POST", "/api/v1/atmos/pre-apply", {
      auth,
      body: { session_id: link.session_id, transaction_id: transactionId, offer_version: "2025-01", ...card },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.details).toEqual({ current_version: OFFER.version });
    const pre = await call(h, "POST", "/api/v1/atmos/pre-apply", {
      auth,
      body: {
        session_id: link.session_id,
        transaction_id: transactionId,
        offer_version: OFFER.version,
        ...card,
      },
    });
    expect(pre.status, JSON.stringify(pre.body)).toBe(200);
    const before = Date.now();
    const res = await apply(h, { auth, sessionId: link.session_id, transactionId });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, link.session_id));
    expect(payment!.status).toBe("success");
    expect(payment!.offerVersion).toBe(OFFER.version);
    expect(payment!.offerAcceptedAt).not.toBeNull();
    expect(payment!.offerAcceptedAt!.getTime()).toBeLessThanOrEqual(before);
  });
});
