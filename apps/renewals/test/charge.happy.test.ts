import type { Transaction } from "@obuna/db";
import { boundCards, subscriptions } from "@obuna/db/schema";
import { openTransaction, waitUntilBlockedBy } from "@obuna/db/testing";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renewalAccount } from "../src/core/attempts";
import { chargeSubscription } from "../src/core/charge";
import {
  attemptsOf,
  confirmedCharges,
  createSubscriber,
  createWorld,
  DAY,
  db,
  HOUR,
  loadSubscription,
  loadUser,
  notificationJob,
  paymentsOf,
  type World,
} from "./harness";

const START = new Date("2031-05-01T06:00:00.000Z");
let world: World;

beforeEach(async () => {
  world = await createWorld(START);
});
afterEach(async () => {
  await world.close();
});

describe("successful renewal", () => {
  it("charges the token once and extends end_date by the plan from the previous end_date", async () => {
    const { sub, user, plan, cardId } = await createSubscriber(world, { endsInMs: 20 * HOUR });
    const outcome = await chargeSubscription(world.renewals.ctx, {
      subscriptionId: sub.id,
      periodEnd: sub.endDate,
    });
    expect(outcome.status).toBe("success");

    const after = await loadSubscription(sub.id);
    expect(after.endDate.getTime()).toBe(sub.endDate.getTime() + plan.durationDays * DAY);
    expect(after.status).toBe("active");
    expect(after.renewalAttempts).toBe(0);
    expect(after.lastRenewalAttempt?.toISOString()).toBe(START.toISOString());
    expect((await loadUser(user.id)).role).toBe("premium");

    const [attempt] = await attemptsOf(sub.id);
    expect(attempt).toMatchObject({ status: "success", attemptNumber: 1, amount: plan.price });
    const [payment] = await paymentsOf(sub.id);
    expect(payment).toMatchObject({
      kind: "renewal",
      status: "success",
      amount: plan.price,
      externalId: attempt!.externalId,
      idempotencyKey: `renewal:${sub.id}:${sub.endDate.getTime()}:1`,
      boundCardId: cardId,
    });
    expect(payment!.cardMasked).toMatch(/^\d{6}\*{6}\d{4}$/);
    expect(payment!.periodStart?.toISOString()).toBe(sub.endDate.toISOString());
    const [card] = await db.select().from(boundCards).where(eq(boundCards.id, cardId!));
    expect(card!.lastUsedAt?.toISOString()).toBe(START.toISOString());

    const ledger = confirmedCharges(world);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      amount: plan.price,
      viaToken: true,
      account: renewalAccount(attempt!.id),
      transactionId: Number(attempt!.externalId),
    });
    const note = await notificationJob(
      world,
      { kind: "renewal_succeeded", userId: user.id, paymentId: payment!.id, subscriptionId: sub.id },
      payment!.id,
    );
    expect(note?.data).toMatchObject({ kind: "renewal_succeeded", subscriptionId: sub.id });

    // The same job again (a duplicate delivery, a second sweep): nothing happens.
    const again = await chargeSubscription(world.renewals.ctx, {
      subscriptionId: sub.id,
      periodEnd: sub.endDate,
    });
    expect(again.status).toBe("skipped");
    expect(confirmedCharges(world)).toHaveLength(1);
    expect(await paymentsOf(sub.id)).toHaveLength(1);
  });

  it("extends from the previous end_date when the charge runs late (after the end)", async () => {
    const { sub, plan } = await createSubscriber(world, { endsInMs: -3 * DAY, plan: "quarterly" });
    const outcome = await chargeSubscription(world.renewals.ctx, {
      subscriptionId: sub.id,
      periodEnd: sub.endDate,
    });
    expect(outcome.status).toBe("success");
    const after = await loadSubscription(sub.id);
    expect(after.endDate.toISOString()).toBe(new Date(sub.endDate.getTime() + 90 * DAY).toISOString());
    expect(plan.durationDays).toBe(90);
    expect(confirmedCharges(world)).toHaveLength(1);
    expect(confirmedCharges(world)[0]!.amount).toBe(plan.price);
  });

  it("does not charge before the lead time, for a stale period, or with auto-renew off", async () => {
    const early = await createSubscriber(world, { endsInMs: 25 * HOUR });
    expect(
      await chargeSubscription(world.renewals.ctx, {
        subscriptionId: early.sub.id,
        periodEnd: early.sub.endDate,
      }),
    ).toEqual({ status: "skipped", reason: "not due yet" });
    const due = await createSubscriber(world, { endsInMs: HOUR });
    expect(
      await chargeSubscription(world.renewals.ctx, {
        subscriptionId: due.sub.id,
        periodEnd: new Date(due.sub.endDate.getTime() - 30 * DAY),
      }),
    ).toMatchObject({ status: "skipped" });
    const off = await createSubscriber(world, { endsInMs: HOUR, autoRenew: false });
    expect(
      await chargeSubscription(world.renewals.ctx, {
        subscriptionId: off.sub.id,
        periodEnd: off.sub.endDate,
      }),
    ).toEqual({ status: "skipped", reason: "auto-renew is off" });
    expect(world.sandbox.ledger()).toHaveLength(0);
  });
});

/**
 * The attempt is started from an unlocked read and written only while the subscription row is the
 * version read (`insertRenewalAttemptIfUnchanged`). A change committed in between sends the worker
 * back to decide again under the subscription's lock.
 */
describe("starting an attempt while the subscription changes", () => {
  /** Runs `change` in a transaction that holds the subscription until the charge is waiting for it. */
  async function chargeAcross(
    subscriptionId: number,
    periodEnd: Date,
    change: (tx: Transaction) => Promise<unknown>,
  ) {
    const changing = await openTransaction(db, change);
    const charge = chargeSubscription(world.renewals.ctx, { subscriptionId, periodEnd });
    // The charge read the committed row and now waits for this transaction's lock to write its attempt.
    await waitUntilBlockedBy(db, changing.pid);
    await changing.commit();
    return charge;
  }

  it("a change that keeps it due: decided again under the lock, charged once", async () => {
    const { sub } = await createSubscriber(world, { endsInMs: HOUR });
    const outcome = await chargeAcross(sub.id, sub.endDate, (tx) =>
      tx.update(subscriptions).set({ nextRenewalAt: null }).where(eq(subscriptions.id, sub.id)),
    );
    expect(outcome.status).toBe("success");
    expect(await attemptsOf(sub.id)).toMatchObject([{ attemptNumber: 1, status: "success" }]);
    expect(confirmedCharges(world)).toHaveLength(1);
  });

  it("a cancel committed in between: no attempt is written and nothing is charged", async () => {
    const { sub } = await createSubscriber(world, { endsInMs: HOUR });
    const outcome = await chargeAcross(sub.id, sub.endDate, (tx) =>
      tx.update(subscriptions).set({ autoRenew: false }).where(eq(subscriptions.id, sub.id)),
    );
    expect(outcome).toEqual({ status: "skipped", reason: "auto-renew is off" });
    expect(await attemptsOf(sub.id)).toHaveLength(0);
    expect(world.sandbox.ledger()).toHaveLength(0);
  });
});
