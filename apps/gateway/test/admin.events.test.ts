import { createAtmosClient } from "@obuna/atmos";
import { PremiumEventSchema } from "@obuna/contracts/events";
import { QUEUES } from "@obuna/contracts/jobs";
import { fanOutPremiumEvents, recordDeliveryAttempt } from "@obuna/db/queries";
import { auditLog, premiumEventDeliveries, premiumEvents } from "@obuna/db/schema";
import { testRedisUrl } from "@obuna/db/testing";
import { Queue } from "bullmq";
import { and, eq } from "drizzle-orm";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { REDIS_DB_INDEX, STORE_ID } from "./constants";
import {
  apply,
  type Harness,
  type Json,
  prepareSession,
  randomTelegramId,
  sandboxRail,
  startHarness,
  testGatewayConfig,
} from "./harness";

/** Signed premium events in admin: the delivery log and the audited manual resend. */

const ADMIN_TOKEN = "gateway-test-admin-token-0123456789";
const ENDPOINT = "https://host.example/obuna/events";

let h: Harness;
let adminApp: ReturnType<typeof createApp>;
let notifications: Queue;

beforeAll(async () => {
  notifications = new Queue(QUEUES.notifications, {
    prefix: "events-admin-test",
    connection: new Redis(testRedisUrl(REDIS_DB_INDEX), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    }),
  });
  await notifications.waitUntilReady();
  h = await startHarness({}, { notificationsQueue: notifications });
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
      clock: () => new Date(),
      config: testGatewayConfig({ rateLimits: { adminSignInPerIpPer15Min: 1000 } }),
    },
    { admin: { adminToken: ADMIN_TOKEN, sessionTtlS: 3600 } },
  );
});
afterAll(async () => {
  await notifications?.obliterate({ force: true });
  await notifications?.close();
  await h?.close();
});

async function admin(method: string, path: string, options: { auth?: string | null; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  const auth = options.auth === undefined ? `Bearer ${ADMIN_TOKEN}` : options.auth;
  if (auth) headers.authorization = auth;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await adminApp.request(path, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

describe("signed events in admin", () => {
  it("a payment through the gateway records premium.started; admin lists its delivery and resends it (audited)", async () => {
    const telegramId = randomTelegramId();
    const prepared = await prepareSession(h, { telegramId });
    expect((await apply(h, prepared)).status).toBe(200);

    // The money core recorded the event with the payment's transaction.
    const [event] = await h.db.db
      .select()
      .from(premiumEvents)
      .where(eq(premiumEvents.telegramId, telegramId));
    expect(PremiumEventSchema.parse(event!.payload)).toMatchObject({
      type: "premium.started",
      telegram_id: telegramId,
      subscription: { plan: "monthly", status: "active", active: true, rail: "card" },
    });

    // The renewals worker's relay and a failed delivery, as they would leave the rows.
    await fanOutPremiumEvents(h.db.db, { endpoints: [ENDPOINT], now: new Date() });
    const [delivery] = await h.db.db
      .select()
      .from(premiumEventDeliveries)
      .where(eq(premiumEventDeliveries.eventId, event!.id));
    await recordDeliveryAttempt(h.db.db, {
      deliveryId: delivery!.id,
      generation: 1,
      statusCode: 500,
      error: "endpoint answered 500",
      durationMs: 12,
      verdict: "failed",
      now: new Date(),
    });

    const list = await admin("GET", `/api/v1/admin/event-deliveries?telegram_id=${telegramId}`);
    expect(list.status).toBe(200);
    expect(list.body.data.total).toBe(1);
    expect(list.body.data.items[0]).toMatchObject({
      id: delivery!.id,
      event_id: event!.id,
      event_type: "premium.started",
      telegram_id: telegramId,
      endpoint: ENDPOINT,
      status: "failed",
      attempts: 1,
      last_status_code: 500,
      recent_attempts: [{ generation: 1, status_code: 500, error: "endpoint answered 500", duration_ms: 12 }],
    });
    expect(
      (await admin("GET", "/api/v1/admin/event-deliveries?status=failed")).body.data.items,
    ).toContainEqual(expect.objectContaining({ id: delivery!.id }));

    const resent = await admin("POST", `/api/v1/admin/event-deliveries/${delivery!.id}/resend`, {
      body: { reason: "host was down during the outage" },
    });
    expect(resent.status, JSON.stringify(resent.body)).toBe(200);
    expect(resent.body.data.delivery).toMatchObject({ status: "pending", generation: 2, attempts: 1 });
    const [row] = await h.db.db
      .select()
      .from(premiumEventDeliveries)
      .where(eq(premiumEventDeliveries.id, delivery!.id));
    // Owed to the queue again: the renewals relay hands it over on its next run.
    expect(row).toMatchObject({ status: "pending", generation: 2, queuedAt: null });
    const audits = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, "event_delivery"), eq(auditLog.entityId, String(delivery!.id))));
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      actor: "admin",
      action: "event.resent",
      reason: "host was down during the outage",
      details: {
        via: "token",
        eventId: event!.id,
        endpoint: ENDPOINT,
        previousStatus: "failed",
        generation: 2,
      },
    });
    expect(resent.body.data.audit_id).toBe(audits[0]!.id);
  });

  it("refuses without admin credentials (401), an unknown delivery (404), a missing reason (400)", async () => {
    for (const auth of [null, "Bearer wrong-admin-token-000000000"]) {
      expect((await admin("GET", "/api/v1/admin/event-deliveries", { auth })).status).toBe(401);
      expect(
        (
          await admin("POST", "/api/v1/admin/event-deliveries/1/resend", {
            auth,
            body: { reason: "nope nope" },
          })
        ).status,
      ).toBe(401);
    }
    const missing = await admin("POST", "/api/v1/admin/event-deliveries/999999999/resend", {
      body: { reason: "does not exist" },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
    const noReason = await admin("POST", "/api/v1/admin/event-deliveries/1/resend", { body: {} });
    expect(noReason.status).toBe(400);
    const badFilter = await admin("GET", "/api/v1/admin/event-deliveries?status=lost");
    expect(badFilter.status).toBe(400);
  });
});
