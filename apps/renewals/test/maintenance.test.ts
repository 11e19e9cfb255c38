import { RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { paymentSessions } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cardValidUntil, expireSubscriptions, sendReminders } from "../src/core/maintenance";
import {
  createSubscriber,
  createWorld,
  DAY,
  db,
  HOUR,
  loadSubscription,
  loadUser,
  type World,
} from "./harness";

const START = new Date("2028-02-20T08:00:00.000Z");
let world: World;

beforeEach(async () => {
  world = await createWorld(START);
});
afterEach(async () => {
  await world.close();
});

describe("maintenance", () => {
  it("expires ended subscriptions with auto-renew off (role back), never auto-renewing ones about to be charged", async () => {
    const ended = await createSubscriber(world, { endsInMs: -1_000, autoRenew: false });
    const notYet = await createSubscriber(world, { endsInMs: 1_000, autoRenew: false });
    const renewing = await createSubscriber(world, { endsInMs: -HOUR });
    const noCard = await createSubscriber(world, { endsInMs: -HOUR, withCard: false });
    expect(await expireSubscriptions(world.renewals.ctx)).toBe(2);
    expect(await loadSubscription(ended.sub.id)).toMatchObject({ status: "expired", isActive: false });
    expect((await loadUser(ended.user.id)).role).toBe("user");
    expect((await loadSubscription(notYet.sub.id)).status).toBe("active");
    expect((await loadSubscription(renewing.sub.id)).status).toBe("active");
    expect((await loadSubscription(noCard.sub.id)).status).toBe("expired");
    const note = await world.renewals.notifications.getJob(
      `ntf-subscription_expired-${ended.user.id}-${ended.sub.id}-${ended.sub.endDate.getTime()}`,
    );
    expect(note?.data).toMatchObject({ kind: "subscription_expired", subscriptionId: ended.sub.id });
    expect(await expireSubscriptions(world.renewals.ctx)).toBe(0);
  });

  it("marks pending payment sessions past expires_at as expired", async () => {
    const { user, plan } = await createSubscriber(world, { endsInMs: 10 * DAY });
    const [stale] = await db
      .insert(paymentSessions)
      .values({
        userId: user.id,
        planId: plan.id,
        amount: plan.price,
        expiresAt: new Date(START.getTime() - 1),
      })
      .returning();
    const [fresh] = await db
      .insert(paymentSessions)
      .values({
        userId: user.id,
        planId: plan.id,
        amount: plan.price,
        expiresAt: new Date(START.getTime() + 60_000),
      })
      .returning();
    expect(await world.renewals.runPeriodicJob(RENEWAL_JOBS.expiry)).toMatchObject({ sessionsExpired: 1 });
    const [a] = await db.select().from(paymentSessions).where(eq(paymentSessions.id, stale!.id));
    const [b] = await db.select().from(paymentSessions).where(eq(paymentSessions.id, fresh!.id));
    expect(a!.status).toBe("expired");
    expect(b!.status).toBe("pending");
  });

  it("sends one reminder per period 3 days before the charge, and a nudge when the card expires first", async () => {
    // Charge = end − 24 h. Reminder window opens 3 days before the charge.
    const soon = await createSubscriber(world, { endsInMs: 4 * DAY - HOUR, cardExpiry: "3012" });
    const later = await createSubscriber(world, { endsInMs: 4 * DAY + HOUR, cardExpiry: "3012" });
    // Card valid through February 2028; the charge is in March.
    const expiring = await createSubscriber(world, { endsInMs: 13 * DAY, cardExpiry: "2802" });
    expect(await sendReminders(world.renewals.ctx)).toEqual({ reminders: 1, cardNudges: 0 });
    expect(await sendReminders(world.renewals.ctx)).toEqual({ reminders: 0, cardNudges: 0 });
    world.clock.advance(2 * HOUR); // later's window opens
    expect(await sendReminders(world.renewals.ctx)).toEqual({ reminders: 1, cardNudges: 0 });
    world.clock.set(new Date(START.getTime() + 9 * DAY + HOUR)); // expiring's charge is within 3 days
    expect(await sendReminders(world.renewals.ctx)).toEqual({ reminders: 1, cardNudges: 1 });
    expect(await sendReminders(world.renewals.ctx)).toEqual({ reminders: 0, cardNudges: 0 });

    const chargeAt = new Date(soon.sub.endDate.getTime() - DAY).toISOString();
    const reminder = await world.renewals.notifications.getJob(
      `ntf-renewal_reminder-${soon.user.id}-${soon.sub.id}-${soon.sub.endDate.getTime()}`,
    );
    expect(reminder?.data).toEqual({
      kind: "renewal_reminder",
      userId: soon.user.id,
      subscriptionId: soon.sub.id,
      chargeAt,
    });
    expect((await loadSubscription(later.sub.id)).reminderSentFor?.toISOString()).toBe(
      later.sub.endDate.toISOString(),
    );
    const nudge = await world.renewals.notifications.getJob(
      `ntf-card_expiring-${expiring.user.id}-${expiring.cardId}-${expiring.sub.endDate.getTime()}`,
    );
    expect(nudge?.data).toMatchObject({ kind: "card_expiring", boundCardId: expiring.cardId });
    expect(cardValidUntil("2802").toISOString()).toBe("2028-02-29T23:59:59.999Z");
  });

  it("does not remind before the window opens", async () => {
    await createSubscriber(world, { endsInMs: 4 * DAY + HOUR });
    expect(await sendReminders(world.renewals.ctx)).toEqual({ reminders: 0, cardNudges: 0 });
  });
});
