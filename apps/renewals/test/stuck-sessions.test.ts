// The `stuck-session-recheck` periodic job: a payment session left `processing` (the apply's answer
// was lost and no callback came) is asked at ATMOS (the sandbox, over HTTP) and settled by the money
// core, once per cluster; the gateway runs no timer for it any more.
import { SANDBOX_CARDS } from "@obuna/atmos/sandbox";
import { RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { getPlanBySlug, upsertTelegramUser } from "@obuna/db/queries";
import { paymentSessions, payments, subscriptions } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWorld, db, type World } from "./harness";

const START = new Date("2031-10-01T04:00:00.000Z");
const MINUTE = 60_000;
let world: World;
beforeEach(async () => {
  world = await createWorld(START);
});
afterEach(async () => {
  await world.close();
});

/** A session whose apply was sent `ageMs` ago and never answered; `charged`: ATMOS confirmed it. */
async function strandedSession(telegramId: number, options: { charged: boolean; ageMs: number }) {
  const user = await upsertTelegramUser(db, { telegramId, username: "stuck" });
  const plan = (await getPlanBySlug(db, "monthly"))!;
  const created = await world.atmos.createTransaction({ amount: plan.price, account: `stuck-${telegramId}` });
  const card = SANDBOX_CARDS.humo1;
  await world.atmos.preApplyCard({
    transactionId: created.transactionId,
    cardNumber: card.pan,
    expiry: card.expiry,
  });
  if (options.charged) await world.atmos.apply({ transactionId: created.transactionId, otp: "111111" });
  const at = new Date(START.getTime() - options.ageMs);
  const [session] = await db
    .insert(paymentSessions)
    .values({
      userId: user.id,
      planId: plan.id,
      status: "processing",
      amount: plan.price,
      externalId: String(created.transactionId),
      expiresAt: new Date(at.getTime() + 30 * MINUTE),
      createdAt: at,
      updatedAt: at,
    })
    .returning();
  await db.insert(payments).values({
    userId: user.id,
    sessionId: session!.id,
    kind: "initial",
    status: "pending",
    amount: plan.price,
    externalId: String(created.transactionId),
    idempotencyKey: `session:${session!.id}`,
    createdAt: at,
    updatedAt: at,
  });
  return { sessionId: session!.id, userId: user.id, transactionId: created.transactionId };
}

async function state(sessionId: string) {
  const [session] = await db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId));
  const rows = await db.select().from(payments).where(eq(payments.sessionId, sessionId));
  return { session: session!.status, payments: rows.map((r) => r.status) };
}

describe("stuck-session-recheck job", () => {
  it("completes a session ATMOS charged (once), fails one never confirmed after 30 minutes, leaves young ones", async () => {
    const charged = await strandedSession(7_100_001, { charged: true, ageMs: 6 * MINUTE });
    const abandoned = await strandedSession(7_100_002, { charged: false, ageMs: 31 * MINUTE });
    const young = await strandedSession(7_100_003, { charged: true, ageMs: MINUTE });

    expect(await world.renewals.runPeriodicJob(RENEWAL_JOBS.stuckSessionRecheck)).toEqual({
      completed: 1,
      failed: 1,
      unknown: 0,
    });
    expect(await state(charged.sessionId)).toEqual({ session: "completed", payments: ["success"] });
    expect(await state(abandoned.sessionId)).toEqual({ session: "failed", payments: ["failed"] });
    expect(await state(young.sessionId)).toEqual({ session: "processing", payments: ["pending"] });
    const subs = await db.select().from(subscriptions).where(eq(subscriptions.userId, charged.userId));
    expect(subs.map((s) => s.status)).toEqual(["active"]);

    // A second run changes nothing and charges nothing.
    expect(await world.renewals.runPeriodicJob(RENEWAL_JOBS.stuckSessionRecheck)).toEqual({
      completed: 0,
      failed: 0,
      unknown: 0,
    });
    const confirmed = world.sandbox.ledger().filter((t) => t.state === "confirmed");
    expect(confirmed.map((t) => t.transactionId).sort()).toEqual(
      [charged.transactionId, young.transactionId].sort(),
    );
  });
});
