/**
 * ATMOS outcomes on the renewal path: a charge whose outcome was unknown and that ATMOS then reversed
 * never renews; an unrecognised result code on the token apply is an unknown outcome, never a
 * decline; a cancel (auto-renew off, card removed) just before or just after the charge is sent.
 */
import { boundCards, notificationOutbox, payments, renewalAttempts, subscriptions } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chargeSubscription } from "../src/core/charge";
import { runJanitor } from "../src/core/janitor";
import {
  attemptsOf,
  confirmedCharges,
  createSubscriber,
  createWorld,
  DAY,
  db,
  HOUR,
  loadSubscription,
  notificationKinds,
  paymentsOf,
  type World,
} from "./harness";

const START = new Date("2033-03-01T10:00:00.000Z");
const MIN = 60_000;
let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

const charge = (w: World, sub: { id: number; endDate: Date }) =>
  chargeSubscription(w.renewals.ctx, { subscriptionId: sub.id, periodEnd: sub.endDate });

async function outboxKinds(userId: number) {
  const rows = await db.select().from(notificationOutbox);
  return rows
    .filter((r) => (r.payload as { userId?: number }).userId === userId)
    .map((r) => r.kind)
    .sort();
}

describe("a renewal charge reversed by ATMOS after its outcome was unknown", () => {
  it("the janitor ends it failed: no payment, no extension, no success message", async () => {
    world = await createWorld(START);
    const w = world;
    const { sub, user } = await createSubscriber(w, { endsInMs: 10 * HOUR });
    w.sandbox.configure({ loseNextApply: 1 });
    expect(await charge(w, sub)).toMatchObject({ status: "unknown" });
    const [attempt] = await attemptsOf(sub.id);
    expect(confirmedCharges(w)).toHaveLength(1);
    expect(w.sandbox.reverseTransaction(Number(attempt!.externalId!))).toBe("reversed");

    w.clock.advance(5 * MIN);
    const pass = await runJanitor(w.renewals.ctx);
    expect(pass).toMatchObject({ checked: 1, success: 0, declined: 1 });
    expect((await attemptsOf(sub.id)).map((a) => [a.status, a.errorCode])).toEqual([
      ["failed", "ATMOS_REVERSED"],
    ]);
    expect(await paymentsOf(sub.id)).toEqual([]);
    const after = await loadSubscription(sub.id);
    expect(after.endDate.getTime()).toBe(sub.endDate.getTime());
    expect(after.status).toBe("past_due");
    expect(await outboxKinds(user.id)).toEqual(["renewal_failed"]);
    // Nothing charged again meanwhile.
    expect(w.sandbox.ledger().filter((t) => t.state === "confirmed" || t.state === "reversed")).toHaveLength(
      1,
    );
  });
});

describe("an unrecognised result code on the renewal's token apply", () => {
  it("charged at ATMOS: recorded unknown (not a decline), then the janitor's get-transaction renews once", async () => {
    world = await createWorld(START);
    const w = world;
    const { sub, plan, user } = await createSubscriber(w, { endsInMs: 10 * HOUR });
    w.sandbox.configure({
      faultPath: "/merchant/pay/confirm-with-ofd-list",
      unrecognisedCodeNext: 1,
      unrecognisedCodeMode: "after",
    });
    expect(await charge(w, sub)).toMatchObject({ status: "unknown" });
    expect((await attemptsOf(sub.id)).map((a) => [a.status, a.errorCode])).toEqual([
      ["unknown", "STPIMS-ERR-999"],
    ]);
    expect((await loadSubscription(sub.id)).status).toBe("active");
    expect(await outboxKinds(user.id)).toEqual([]);
    expect(confirmedCharges(w)).toHaveLength(1);

    w.clock.advance(5 * MIN);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ checked: 1, success: 1 });
    expect((await loadSubscription(sub.id)).endDate.getTime()).toBe(
      sub.endDate.getTime() + plan.durationDays * DAY,
    );
    expect(await paymentsOf(sub.id)).toHaveLength(1);
    expect(confirmedCharges(w)).toHaveLength(1);
  });

  it("not charged at ATMOS: still unknown after the janitor's check, never a decline", async () => {
    world = await createWorld(START);
    const w = world;
    const { sub, user } = await createSubscriber(w, { endsInMs: 10 * HOUR });
    w.sandbox.configure({
      faultPath: "/merchant/pay/confirm-with-ofd-list",
      unrecognisedCodeNext: 1,
      unrecognisedCodeMode: "before",
    });
    expect(await charge(w, sub)).toMatchObject({ status: "unknown" });
    w.clock.advance(5 * MIN);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ checked: 1, rescheduled: 1, declined: 0 });
    expect((await attemptsOf(sub.id)).map((a) => a.status)).toEqual(["unknown"]);
    expect((await loadSubscription(sub.id)).status).toBe("active");
    expect(await outboxKinds(user.id)).toEqual([]);
    expect(confirmedCharges(w)).toHaveLength(0);
  });
});

describe("the database guard: one successful payment per renewal period", () => {
  it("a second confirmed charge for a paid period is refused, parked for an operator, never granted", async () => {
    world = await createWorld(START);
    const w = world;
    const { sub, user, plan } = await createSubscriber(w, { endsInMs: 10 * HOUR });
    // This period already has a successful renewal payment (its extension went astray).
    await db.insert(payments).values({
      userId: user.id,
      subscriptionId: sub.id,
      kind: "renewal",
      status: "success",
      amount: plan.price,
      externalId: "1",
      idempotencyKey: `renewal:${sub.id}:${sub.endDate.getTime()}:0`,
      periodStart: sub.endDate,
      periodEnd: new Date(sub.endDate.getTime() + plan.durationDays * DAY),
    });
    expect(await charge(w, sub)).toMatchObject({ status: "skipped" });
    expect(confirmedCharges(w)).toHaveLength(1);
    const [attempt] = await attemptsOf(sub.id);
    expect(attempt).toMatchObject({
      status: "unknown",
      errorCode: "DUPLICATE_PERIOD_CHARGE",
      nextCheckAt: null,
      externalId: String(confirmedCharges(w)[0]!.transactionId),
    });
    expect((await paymentsOf(sub.id)).map((p) => p.externalId)).toEqual(["1"]);
    expect((await loadSubscription(sub.id)).endDate.getTime()).toBe(sub.endDate.getTime());
    const alerts = (await db.select().from(notificationOutbox)).filter((r) => r.kind === "admin_alert");
    expect(alerts.map((r) => (r.payload as { text: string }).text)).toEqual([
      expect.stringMatching(/double charge/),
    ]);
    // The janitor is not stuck on it, and no new attempt charges the period again.
    w.clock.advance(DAY);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ checked: 0 });
    expect(await charge(w, sub)).toMatchObject({ status: "skipped" });
    expect(confirmedCharges(w)).toHaveLength(1);
  });
});

/** What the gateway's cancel does (account.ts cancelSubscription): auto-renew off, in one statement. */
async function turnAutoRenewOff(subscriptionId: number) {
  await db
    .update(subscriptions)
    .set({ autoRenew: false, cancelledAt: new Date(), nextRenewalAt: null, updatedAt: new Date() })
    .where(eq(subscriptions.id, subscriptionId));
}

/** What the gateway's removeCard does in its transaction: card gone, auto-renew off. */
async function removeCard(subscriptionId: number, cardId: number) {
  await db.transaction(async (tx) => {
    await tx
      .update(boundCards)
      .set({ status: "removed", isActive: false, removedAt: new Date(), updatedAt: new Date() })
      .where(eq(boundCards.id, cardId));
    await tx
      .update(subscriptions)
      .set({ autoRenew: false, boundCardId: null, updatedAt: new Date() })
      .where(eq(subscriptions.id, subscriptionId));
  });
}

async function attemptRow(subscriptionId: number) {
  const [row] = await db
    .select()
    .from(renewalAttempts)
    .where(eq(renewalAttempts.subscriptionId, subscriptionId));
  return row;
}

const applyCalls = (w: World) =>
  w.sandbox.requests().filter((r) => r.path === "/merchant/pay/confirm-with-ofd-list").length;

describe("cancel during a renewal in flight (real BullMQ worker, sandbox)", () => {
  for (const how of ["auto-renew off", "card removed"] as const) {
    it(`${how} before the charge call is sent: never charged`, async () => {
      world = await createWorld(START);
      const w = world;
      const { sub, user, cardId } = await createSubscriber(w, { endsInMs: HOUR });
      // Every ATMOS call takes a while: the cancel lands while pre-apply is on its way.
      w.sandbox.configure({ latencyMs: 600 });
      await w.renewals.start({ schedulers: false });
      await w.renewals.sweep();
      await vi.waitFor(async () => expect((await attemptRow(sub.id))?.externalId).toBeTruthy(), {
        timeout: 15_000,
        interval: 20,
      });
      expect((await attemptRow(sub.id))!.status).toBe("pending");
      if (how === "auto-renew off") await turnAutoRenewOff(sub.id);
      else await removeCard(sub.id, cardId!);

      await vi.waitFor(async () => expect((await attemptRow(sub.id))!.status).toBe("failed"), {
        timeout: 15_000,
        interval: 20,
      });
      expect(await attemptRow(sub.id)).toMatchObject({ errorCode: "NOT_CHARGED:cancelled" });
      expect(applyCalls(w)).toBe(0);
      expect(w.sandbox.ledger().map((t) => t.state)).toEqual(["pre_applied"]);
      expect(await paymentsOf(sub.id)).toEqual([]);
      expect((await loadSubscription(sub.id)).endDate.getTime()).toBe(sub.endDate.getTime());
      expect(await outboxKinds(user.id)).toEqual([]);
    });
  }

  it("the period renewed meanwhile (a payment in the Mini App) before the charge call: never charged", async () => {
    world = await createWorld(START);
    const w = world;
    const { sub } = await createSubscriber(w, { endsInMs: HOUR });
    w.sandbox.configure({ latencyMs: 600 });
    await w.renewals.start({ schedulers: false });
    await w.renewals.sweep();
    await vi.waitFor(async () => expect((await attemptRow(sub.id))?.externalId).toBeTruthy(), {
      timeout: 15_000,
      interval: 20,
    });
    await db
      .update(subscriptions)
      .set({ endDate: new Date(sub.endDate.getTime() + 30 * DAY) })
      .where(eq(subscriptions.id, sub.id));
    await vi.waitFor(async () => expect((await attemptRow(sub.id))!.status).toBe("failed"), {
      timeout: 15_000,
      interval: 20,
    });
    expect(await attemptRow(sub.id)).toMatchObject({ errorCode: "NOT_CHARGED:period_renewed" });
    expect(applyCalls(w)).toBe(0);
    expect(await paymentsOf(sub.id)).toEqual([]);
  });

  it("auto-renew off just after the charge call was sent: honoured, recorded, the user told plainly", async () => {
    world = await createWorld(START);
    const w = world;
    const { sub, user, plan } = await createSubscriber(w, { endsInMs: HOUR });
    w.sandbox.configure({ latencyMs: 600 });
    await w.renewals.start({ schedulers: false });
    await w.renewals.sweep();
    // `unknown` = the send was decided under the lock: the apply is on its way.
    await vi.waitFor(async () => expect((await attemptRow(sub.id))?.status).toBe("unknown"), {
      timeout: 15_000,
      interval: 20,
    });
    await turnAutoRenewOff(sub.id);

    await vi.waitFor(async () => expect((await attemptRow(sub.id))!.status).toBe("success"), {
      timeout: 15_000,
      interval: 20,
    });
    expect(applyCalls(w)).toBe(1);
    expect(confirmedCharges(w)).toHaveLength(1);
    const [payment] = await paymentsOf(sub.id);
    expect(payment).toMatchObject({ status: "success", kind: "renewal", amount: plan.price });
    const after = await loadSubscription(sub.id);
    expect(after.endDate.getTime()).toBe(sub.endDate.getTime() + plan.durationDays * DAY);
    expect(after.autoRenew).toBe(false);
    expect(await outboxKinds(user.id)).toEqual(["renewal_charged_after_cancel"]);
    await vi.waitFor(
      async () => expect(await notificationKinds(w, user.id)).toEqual(["renewal_charged_after_cancel"]),
      { timeout: 10_000, interval: 20 },
    );
  });
});
