import { SANDBOX_CARDS } from "@obuna/atmos/sandbox";
import { RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { findDueRenewals } from "@obuna/db/queries";
import { boundCards } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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
  notificationKinds,
  paymentsOf,
  type World,
} from "./harness";

const START = new Date("2031-07-01T04:00:00.000Z");
const LEAD = 24 * HOUR;
let world: World;

beforeEach(async () => {
  world = await createWorld(START);
});
afterEach(async () => {
  await world.close();
});

const humo1 = SANDBOX_CARDS.humo1.pan;

async function isDue(subscriptionId: number) {
  const due = await findDueRenewals(db, { now: world.clock.now(), leadMs: LEAD, limit: 1000 });
  return due.find((d) => d.subscriptionId === subscriptionId);
}

const charge = (sub: { id: number; endDate: Date }) =>
  chargeSubscription(world.renewals.ctx, { subscriptionId: sub.id, periodEnd: sub.endDate });

describe("dunning", () => {
  it("decline → past_due with grace → retry on schedule → success", async () => {
    const { sub, user, plan } = await createSubscriber(world, { endsInMs: 20 * HOUR });
    world.sandbox.configure({ cardOutcomes: { [humo1]: "insufficient_funds" } });

    const first = await charge(sub);
    expect(first).toMatchObject({ status: "declined", hardDecline: false, expired: false });
    const pastDue = await loadSubscription(sub.id);
    expect(pastDue.status).toBe("past_due");
    expect(pastDue.isActive).toBe(true); // access kept during grace
    expect(pastDue.renewalAttempts).toBe(1);
    expect(pastDue.graceUntil?.toISOString()).toBe(new Date(sub.endDate.getTime() + 7 * DAY).toISOString());
    expect(pastDue.nextRenewalAt?.toISOString()).toBe(new Date(START.getTime() + DAY).toISOString());
    expect((await loadUser(user.id)).role).toBe("premium");
    const [failed] = await attemptsOf(sub.id);
    expect(failed).toMatchObject({ status: "failed", attemptNumber: 1 });
    expect(failed!.errorCode).toBeTruthy();
    const failNote = await world.renewals.notifications.getJob(`ntf-renewal_failed-${user.id}-${failed!.id}`);
    expect(failNote?.data).toMatchObject({
      hardDecline: false,
      nextAttemptAt: pastDue.nextRenewalAt!.toISOString(),
      errorKind: "insufficient_funds",
    });

    // Not retried before its time, even if a job asks.
    world.clock.advance(12 * HOUR);
    expect(await isDue(sub.id)).toBeUndefined();
    expect(await charge(sub)).toEqual({ status: "skipped", reason: "next retry not reached" });

    world.clock.advance(12 * HOUR);
    expect(await isDue(sub.id)).toMatchObject({ nextAttemptNumber: 2 });
    world.sandbox.configure({ cardOutcomes: {} });
    expect(await charge(sub)).toMatchObject({ status: "success" });

    const renewed = await loadSubscription(sub.id);
    expect(renewed).toMatchObject({
      status: "active",
      renewalAttempts: 0,
      graceUntil: null,
      nextRenewalAt: null,
    });
    expect(renewed.endDate.getTime()).toBe(sub.endDate.getTime() + plan.durationDays * DAY);
    const payments = await paymentsOf(sub.id);
    expect(payments.map((p) => p.idempotencyKey)).toEqual([`renewal:${sub.id}:${sub.endDate.getTime()}:2`]);
    expect(confirmedCharges(world)).toHaveLength(1);
    expect(await notificationKinds(world, user.id)).toEqual(["renewal_failed", "renewal_succeeded"]);
  });

  it("every retry declined → expired, role back to user, auto-renew off", async () => {
    const { sub, user } = await createSubscriber(world, { endsInMs: 20 * HOUR });
    world.sandbox.configure({ cardOutcomes: { [humo1]: "insufficient_funds" } });
    const planned: string[] = [];
    for (const offsetDays of [0, 1, 3, 5]) {
      world.clock.set(new Date(START.getTime() + offsetDays * DAY));
      expect(await isDue(sub.id)).toBeDefined();
      const outcome = await charge(sub);
      expect(outcome.status).toBe("declined");
      const now = await loadSubscription(sub.id);
      planned.push(now.nextRenewalAt?.toISOString() ?? "none");
    }
    expect(planned).toEqual([
      new Date(START.getTime() + 1 * DAY).toISOString(),
      new Date(START.getTime() + 3 * DAY).toISOString(),
      new Date(START.getTime() + 5 * DAY).toISOString(),
      "none",
    ]);
    const expired = await loadSubscription(sub.id);
    expect(expired).toMatchObject({ status: "expired", autoRenew: false, isActive: false });
    expect((await loadUser(user.id)).role).toBe("user");
    expect((await attemptsOf(sub.id)).map((a) => a.status)).toEqual(["failed", "failed", "failed", "failed"]);
    expect(confirmedCharges(world)).toHaveLength(0);
    expect(await paymentsOf(sub.id)).toHaveLength(0);
    const kinds = await notificationKinds(world, user.id);
    expect(kinds.filter((k) => k === "renewal_failed")).toHaveLength(4);
    expect(kinds.filter((k) => k === "subscription_expired")).toHaveLength(1);
    // Nothing left to sweep.
    world.clock.advance(10 * DAY);
    expect(await isDue(sub.id)).toBeUndefined();
  });

  it("a hard decline skips retries, deactivates the card and expires when grace ends", async () => {
    const { sub, user, cardId } = await createSubscriber(world, { endsInMs: 20 * HOUR });
    world.sandbox.configure({ cardOutcomes: { [humo1]: "card_blocked" } });
    expect(await charge(sub)).toMatchObject({ status: "declined", hardDecline: true, nextAttemptAt: null });
    const pastDue = await loadSubscription(sub.id);
    expect(pastDue).toMatchObject({ status: "past_due", nextRenewalAt: null });
    const [card] = await db.select().from(boundCards).where(eq(boundCards.id, cardId!));
    expect(card!.isActive).toBe(false);
    const [attempt] = await attemptsOf(sub.id);
    const note = await world.renewals.notifications.getJob(`ntf-renewal_failed-${user.id}-${attempt!.id}`);
    expect(note?.data).toMatchObject({ hardDecline: true, nextAttemptAt: null, errorKind: "card_blocked" });

    world.clock.advance(3 * DAY);
    expect(await isDue(sub.id)).toBeUndefined();
    expect(await world.renewals.runPeriodicJob(RENEWAL_JOBS.expiry)).toMatchObject({
      subscriptionsExpired: 0,
    });

    world.clock.set(pastDue.graceUntil!);
    expect(await world.renewals.runPeriodicJob(RENEWAL_JOBS.expiry)).toMatchObject({
      subscriptionsExpired: 1,
    });
    expect(await loadSubscription(sub.id)).toMatchObject({ status: "expired", autoRenew: false });
    expect((await loadUser(user.id)).role).toBe("user");
    expect(await notificationKinds(world, user.id)).toEqual(["renewal_failed", "subscription_expired"]);
    expect(confirmedCharges(world)).toHaveLength(0);
  });

  it("drops retries that would fall after the grace period", async () => {
    await world.close();
    world = await createWorld(START, { env: { RENEWAL_GRACE_DAYS: "2" } });
    const { sub } = await createSubscriber(world, { endsInMs: 20 * HOUR });
    world.sandbox.configure({ cardOutcomes: { [humo1]: "insufficient_funds" } });
    await charge(sub);
    // grace ends at end_date + 2 d = START + 2 d 20 h: the 1-day retry fits, the 3-day one does not.
    world.clock.advance(DAY);
    const second = await charge(sub);
    expect(second).toMatchObject({ status: "declined", expired: true, nextAttemptAt: null });
    expect((await loadSubscription(sub.id)).status).toBe("expired");
  });
});
