import { type AtmosClient, createAtmosClient } from "@obuna/atmos";
import { paymentSessions, payments, users } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkAlerts, purgeOldRecords, recheckStuckSessions } from "../src/admin/maintenance";
import { registerOpsMetrics } from "../src/admin/metrics";
import { createMetrics } from "../src/metrics";
import { STORE_ID } from "./constants";
import {
  type Harness,
  prepareSession,
  randomTelegramId,
  SANDBOX_OTP,
  startHarness,
  testGatewayConfig,
} from "./harness";

let h: Harness;
let atmos: AtmosClient;
let deps: Parameters<typeof recheckStuckSessions>[0];
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
  const metrics = createMetrics();
  deps = {
    db: h.db.db,
    atmos,
    notificationsQueue: h.queue,
    redis: h.redis,
    logger: pino({ level: "silent" }),
    clock: () => new Date(),
    metrics,
    config: testGatewayConfig(),
  };
  registerOpsMetrics(metrics, h.db.db, deps.clock);
});
afterAll(async () => {
  await h?.close();
});

/** A session an apply claimed (payment pending) and then lost track of, `ageMs` ago. */
async function strandedSession(card: "humo1" | "humo2" | "humo3" | "uzcard1", ageMs: number) {
  const prepared = await prepareSession(h, { card });
  const [session] = await h.db.db
    .select()
    .from(paymentSessions)
    .where(eq(paymentSessions.id, prepared.sessionId));
  const at = new Date(Date.now() - ageMs);
  await h.db.db
    .update(paymentSessions)
    .set({ status: "processing", updatedAt: at })
    .where(eq(paymentSessions.id, prepared.sessionId));
  await h.db.db.insert(payments).values({
    userId: session!.userId,
    sessionId: session!.id,
    kind: "initial",
    status: "pending",
    amount: session!.amount,
    transactionId: prepared.transactionId,
    idempotencyKey: `session:${session!.id}`,
    createdAt: at,
    updatedAt: at,
  });
  return prepared;
}

async function state(sessionId: string) {
  const [session] = await h.db.db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId));
  const rows = await h.db.db.select().from(payments).where(eq(payments.sessionId, sessionId));
  return { session: session!.status, payments: rows.map((r) => r.status) };
}

describe("stuck payment sessions are always finished", () => {
  it("charged at ATMOS → completed exactly once; closed at ATMOS → failed; young sessions are left alone", async () => {
    const charged = await strandedSession("humo1", 6 * MINUTE);
    expect((await atmos.apply({ transactionId: charged.transactionId, otp: SANDBOX_OTP })).confirmed).toBe(
      true,
    );

    const closed = await strandedSession("humo2", 6 * MINUTE);
    for (let i = 0; i < 5; i++) {
      await atmos.apply({ transactionId: closed.transactionId, otp: "000000" }).catch(() => undefined);
    }
    const young = await strandedSession("humo3", MINUTE);

    const results = await recheckStuckSessions(deps);
    expect(results.map((r) => [r.sessionId, r.outcome]).sort()).toEqual(
      [
        [charged.sessionId, "completed"],
        [closed.sessionId, "failed"],
      ].sort(),
    );
    expect(await state(charged.sessionId)).toEqual({ session: "completed", payments: ["success"] });
    expect(await state(closed.sessionId)).toEqual({ session: "failed", payments: ["failed"] });
    expect(await state(young.sessionId)).toEqual({ session: "processing", payments: ["pending"] });
    const confirmed = h.sandbox
      .ledger()
      .filter((t) => t.transactionId === charged.transactionId && t.state === "confirmed");
    expect(confirmed).toHaveLength(1);

    // A second run changes nothing and charges nothing.
    expect(await recheckStuckSessions(deps)).toEqual([]);
    const jobs = await h.queue.getJobs(["waiting", "delayed", "completed", "failed"]);
    expect(jobs.filter((j) => j.data.kind === "payment_succeeded")).toHaveLength(1);
  });

  it("never confirmed at ATMOS: unknown while recent, failed once older than the session lifetime", async () => {
    const pending = await strandedSession("uzcard1", 6 * MINUTE);
    expect(await recheckStuckSessions(deps)).toEqual([{ sessionId: pending.sessionId, outcome: "unknown" }]);
    expect(await state(pending.sessionId)).toEqual({ session: "processing", payments: ["unknown"] });

    await h.db.db
      .update(paymentSessions)
      .set({ updatedAt: new Date(Date.now() - 31 * MINUTE) })
      .where(eq(paymentSessions.id, pending.sessionId));
    expect(await recheckStuckSessions(deps)).toEqual([{ sessionId: pending.sessionId, outcome: "failed" }]);
    expect(await state(pending.sessionId)).toEqual({ session: "failed", payments: ["failed"] });
    // The ATMOS transaction was never confirmed: no money moved.
    expect(h.sandbox.ledger().find((t) => t.transactionId === pending.transactionId)?.state).toBe(
      "pre_applied",
    );
    // One from the closed session of the previous test, one from this one.
    const metrics = await deps.metrics.registry.metrics();
    expect(metrics).toMatch(/gateway_maintenance_sessions_total\{outcome="failed"\} 2/);
  });
});

describe("admin alerts", () => {
  it("failed payments at the threshold and old unknown outcomes queue one alert each per hour", async () => {
    const [user] = await h.db.db.insert(users).values({ telegramId: randomTelegramId() }).returning();
    const now = new Date();
    await h.db.db.insert(payments).values(
      Array.from({ length: 3 }, (_, i) => ({
        userId: user!.id,
        kind: "initial" as const,
        status: "failed" as const,
        amount: 100,
        idempotencyKey: `alert-test-failed-${i}`,
        createdAt: now,
        updatedAt: now,
      })),
    );
    const quiet = await checkAlerts(deps, { failedPaymentsPerHour: 50 });
    expect(quiet.failedLastHour).toBeGreaterThanOrEqual(3);
    expect(quiet.queued.filter((id) => id.includes("failed_payments"))).toEqual([]);

    await h.db.db.insert(payments).values({
      userId: user!.id,
      kind: "renewal",
      status: "unknown",
      amount: 100,
      idempotencyKey: "alert-test-unknown",
      createdAt: new Date(now.getTime() - 2 * 60 * MINUTE),
      updatedAt: new Date(now.getTime() - 2 * 60 * MINUTE),
    });
    const first = await checkAlerts(deps, { failedPaymentsPerHour: 3 });
    const second = await checkAlerts(deps, { failedPaymentsPerHour: 3 });
    expect(first.queued).toHaveLength(2);
    expect(second.queued).toEqual(first.queued);
    expect(first.unknownOlderThanHour.payments).toBe(1);
    const alerts = (await h.queue.getJobs(["waiting", "delayed", "completed", "failed"])).filter(
      (j) => j.data.kind === "admin_alert",
    );
    expect(alerts.map((j) => j.data.alert).sort()).toEqual(["failed_payments", "unknown_outcomes"]);
    for (const job of alerts)
      expect(job.id).toMatch(
        /^ntf-admin_alert-admin-(failed_payments|unknown_outcomes)-\d{4}-\d\d-\d\dT\d\d$/,
      );
  });
});

describe("purge of old records", () => {
  it("deletes expired records in bounded batches and keeps live ones", async () => {
    const tag = `purge-${randomTelegramId()}`;
    await h.db.client`
      insert into idempotency_keys (scope, key, endpoint, request_hash, response_status, expires_at)
      select 'internal', ${tag} || '-expired-' || n, 'POST /x', 'h', 200, now() - interval '1 minute'
      from generate_series(1, 7) n`;
    await h.db.client`
      insert into idempotency_keys (scope, key, endpoint, request_hash, response_status, expires_at)
      values ('internal', ${`${tag}-live`}, 'POST /x', 'h', 200, now() + interval '1 hour')`;
    const remaining = async () =>
      (
        await h.db.client<{ key: string }[]>`
          select key from idempotency_keys where key like ${`${tag}-%`} order by key`
      ).map((r) => r.key);

    // A run deletes at most its limit…
    expect((await purgeOldRecords(deps, { purgeLimit: 5 })).idempotencyKeys).toBe(5);
    // …and the next runs finish the job without touching the live record.
    for (let run = 0; run < 5 && (await remaining()).length > 1; run++) {
      await purgeOldRecords(deps, { purgeLimit: 5 });
    }
    expect(await remaining()).toEqual([`${tag}-live`]);
  });
});

describe("retention of stored ATMOS callbacks", () => {
  it("callbacks older than the retention are purged in bounded batches; recent ones stay", async () => {
    const account = `retention-${randomTelegramId()}`;
    const insert = (age: string, n: number) => h.db.client`
      insert into atmos_callbacks (account, sign_valid, reply_status, reply_message, body, received_at)
      select ${account}, true, 1, 'Success', '{}'::jsonb, now() - ${age}::interval
      from generate_series(1, ${n}) g`;
    await insert("91 days", 7);
    await insert("89 days", 2);
    await insert("1 minute", 1);
    const left = async () =>
      (
        await h.db.client<{ n: number }[]>`
          select count(*)::int n from atmos_callbacks where account = ${account}`
      )[0]!.n;
    const retention = { callbackRetentionMs: 90 * 24 * 3600_000, purgeLimit: 5 };
    expect((await purgeOldRecords(deps, retention)).callbacks).toBe(5);
    await purgeOldRecords(deps, retention);
    expect(await left()).toBe(3);
    // A shorter retention (ATMOS_CALLBACK_RETENTION_DAYS) reaches the younger ones too.
    await purgeOldRecords(deps, { callbackRetentionMs: 30 * 24 * 3600_000 });
    expect(await left()).toBe(1);
  });
});
