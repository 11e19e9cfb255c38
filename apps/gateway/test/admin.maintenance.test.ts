import { type AtmosClient, createAtmosClient } from "@obuna/atmos";
import { paymentSessions, payments } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import pino from "pino";
// The admin alerts and the purges moved with their schedule to apps/renewals (test/periodic-jobs.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recheckStuckSessions } from "../src/admin/maintenance";
import { registerOpsMetrics } from "../src/admin/metrics";
import { createMetrics } from "../src/metrics";
import { STORE_ID } from "./constants";
import {
  type Harness,
  prepareSession,
  SANDBOX_OTP,
  sandboxRail,
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
    ...sandboxRail(atmos),
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
    externalId: String(prepared.transactionId),
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
