// Every money change an operator makes in admin owes the user a message: refund, cancel now, extend,
// card deactivated or removed. The message is an outbox row written in the action's own transaction
// (so it exists exactly when the change committed) and handed to the notifications queue right after.
// A refused action writes none. The payload never carries the operator's internal reason.
import { createAtmosClient } from "@obuna/atmos";
import type { NotificationJob } from "@obuna/contracts/jobs";
import { boundCards, notificationOutbox, subscriptions, users } from "@obuna/db/schema";
import { eq, sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { STORE_ID } from "./constants";
import {
  apply,
  type Harness,
  type Json,
  prepareSession,
  sandboxRail,
  startHarness,
  testGatewayConfig,
} from "./harness";

const ADMIN_TOKEN = "gateway-test-admin-token-0123456789";
const DAY = 86_400_000;

let h: Harness;
let adminApp: ReturnType<typeof createApp>;

beforeAll(async () => {
  h = await startHarness();
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
          retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
        }),
      ),
      notificationsQueue: h.queue,
      redis: h.redis,
      logger: pino({ level: "silent" }),
      clock: () => new Date(Date.now() + h.clock.offsetMs),
      config: testGatewayConfig(),
    },
    { admin: { adminToken: ADMIN_TOKEN, telegramIds: [], sessionTtlS: 3600 } },
  );
});
afterAll(async () => {
  await h?.close();
});

async function admin(path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await adminApp.request(path, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function paid(card: "humo1" | "humo2" | "humo3" | "humo4" | "uzcard1" | "uzcard2", autoRenew = false) {
  const prepared = await prepareSession(h, { card, autoRenew });
  const res = await apply(h, prepared);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const [user] = await h.db.db.select().from(users).where(eq(users.telegramId, prepared.telegramId));
  return { prepared, userId: user!.id, subscriptionId: res.body.data.subscription.id as number };
}

/** The outbox rows owed to this user by admin actions (payment_succeeded from the purchase is left out). */
async function adminMessages(userId: number) {
  const rows = await h.db.db
    .select()
    .from(notificationOutbox)
    .where(sql`${notificationOutbox.payload}->>'userId' = ${String(userId)}`)
    .orderBy(notificationOutbox.id);
  return rows.filter((r) => r.kind !== "payment_succeeded");
}

async function queued(jobId: string) {
  return (await h.queue.getJob(jobId))?.data as NotificationJob | undefined;
}

describe("admin money changes message the user", () => {
  it("refund: one payment_refunded row with the new end date and whether access ended; queued; none for a refused refund", async () => {
    const { userId, subscriptionId } = await paid("uzcard2");
    const [payment] = await h.db.client<{ id: string }[]>`
      select id from payments where subscription_id = ${subscriptionId}`;
    const paymentId = Number(payment!.id);
    const refund = await admin(`/api/v1/admin/payments/${paymentId}/refund`, {
      reason: "internal: fraud team ticket 4411",
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(200);
    const [row, ...rest] = await adminMessages(userId);
    expect(rest).toHaveLength(0);
    expect(row!.payload).toEqual({
      kind: "payment_refunded",
      userId,
      paymentId,
      subscriptionId,
      endDate: refund.body.data.subscription.end_date,
      accessEnded: true,
    });
    expect(JSON.stringify(row!.payload)).not.toContain("fraud");
    expect(row!.queuedAt).not.toBeNull();
    expect(await queued(row!.jobId)).toEqual(row!.payload);

    const again = await admin(`/api/v1/admin/payments/${paymentId}/refund`, { reason: "twice" });
    expect(again.status).toBe(409);
    expect(await adminMessages(userId)).toHaveLength(1);
  });

  it("refund whose ATMOS outcome is unknown changes nothing and owes no message", async () => {
    const { userId, subscriptionId } = await paid("humo2");
    const [payment] = await h.db.client<{ id: string }[]>`
      select id from payments where subscription_id = ${subscriptionId}`;
    h.sandbox.configure({ faultPath: "/merchant/pay/", failNext: 20 });
    try {
      const res = await admin(`/api/v1/admin/payments/${payment!.id}/refund`, { reason: "complaint" });
      expect(res.status).toBe(503);
    } finally {
      h.sandbox.configure({ faultPath: null, failNext: 0 });
    }
    expect(await adminMessages(userId)).toHaveLength(0);
  });

  it("extend and cancel: one row each with the new end date; a refused extend or cancel owes none", async () => {
    const { userId, subscriptionId } = await paid("humo3");
    const [before] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    const ext = await admin(`/api/v1/admin/subscriptions/${subscriptionId}/extend`, {
      days: 7,
      reason: "outage compensation",
    });
    expect(ext.status).toBe(200);
    const cancel = await admin(`/api/v1/admin/subscriptions/${subscriptionId}/cancel`, {
      reason: "chargeback abuse",
    });
    expect(cancel.status).toBe(200);
    expect(
      (await admin(`/api/v1/admin/subscriptions/${subscriptionId}/cancel`, { reason: "again please" }))
        .status,
    ).toBe(409);
    expect(
      (
        await admin(`/api/v1/admin/subscriptions/${subscriptionId}/extend`, {
          days: 1,
          reason: "again please",
        })
      ).status,
    ).toBe(409);
    const rows = await adminMessages(userId);
    expect(rows.map((r) => r.payload)).toEqual([
      {
        kind: "subscription_extended",
        userId,
        subscriptionId,
        days: 7,
        endDate: new Date(before!.endDate.getTime() + 7 * DAY).toISOString(),
      },
      { kind: "subscription_canceled_by_admin", userId, subscriptionId },
    ]);
    for (const row of rows) expect(await queued(row.jobId)).toEqual(row.payload);
  });

  it("card deactivated or removed by an operator: one row per card taken out of use; reactivation and refusals owe none", async () => {
    const a = await paid("humo1", true);
    const [card] = await h.db.db.select().from(boundCards).where(eq(boundCards.userId, a.userId));
    const path = `/api/v1/admin/cards/${card!.id}`;
    expect((await admin(`${path}/deactivate`, { reason: "stolen card report" })).status).toBe(200);
    expect((await admin(`${path}/deactivate`, { reason: "again" })).status).toBe(409);
    expect((await admin(`${path}/reactivate`, { reason: "card found" })).status).toBe(200);
    expect((await admin(`${path}/remove`, { reason: "user asked" })).status).toBe(200);
    // Removing a card that was already inactive says nothing new.
    const b = await paid("uzcard1", true);
    const [other] = await h.db.db.select().from(boundCards).where(eq(boundCards.userId, b.userId));
    expect(
      (await admin(`/api/v1/admin/cards/${other!.id}/deactivate`, { reason: "retired card" })).status,
    ).toBe(200);
    expect((await admin(`/api/v1/admin/cards/${other!.id}/remove`, { reason: "retired card" })).status).toBe(
      200,
    );

    expect((await adminMessages(a.userId)).map((r) => r.payload)).toEqual([
      { kind: "card_deactivated", userId: a.userId, boundCardId: card!.id },
      { kind: "card_deactivated", userId: a.userId, boundCardId: card!.id },
    ]);
    expect((await adminMessages(b.userId)).map((r) => r.payload)).toEqual([
      { kind: "card_deactivated", userId: b.userId, boundCardId: other!.id },
    ]);
  });

  it("the message is written in the action's transaction: an outbox insert that fails rolls the change back", async () => {
    const { userId, subscriptionId } = await paid("humo4");
    const [before] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    await h.db.client.unsafe(`
      create or replace function admin_test_refuse_outbox() returns trigger language plpgsql as $$
      begin if new.kind = 'subscription_extended' then raise exception 'outbox refused'; end if; return new; end $$;
      create trigger admin_test_refuse_outbox before insert on notification_outbox
        for each row execute function admin_test_refuse_outbox();`);
    try {
      const res = await admin(`/api/v1/admin/subscriptions/${subscriptionId}/extend`, {
        days: 5,
        reason: "compensation",
      });
      expect(res.status).toBe(500);
    } finally {
      await h.db.client.unsafe(
        "drop trigger admin_test_refuse_outbox on notification_outbox; drop function admin_test_refuse_outbox();",
      );
    }
    const [after] = await h.db.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    expect(after!.endDate.getTime()).toBe(before!.endDate.getTime());
    expect(await adminMessages(userId)).toHaveLength(0);
  });
});
