import { notificationOutbox, payments, plans, subscriptions } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chargeSubscription } from "../src/core/charge";
import { sendPriceChangeNotices } from "../src/core/price-notices";
import {
  confirmedCharges,
  createSubscriber,
  createWorld,
  DAY,
  db,
  HOUR,
  loadSubscription,
  notificationJob,
  paymentsOf,
  type World,
} from "./harness";

/**
 * Plan price changes (docs/plans.md): renewals keep charging the subscription's price until the
 * subscriber was sent a notice PRICE_CHANGE_NOTICE_DAYS before the first renewal at the new price.
 * The database state an admin price change leaves is set here the way the gateway's
 * changePlanPrice does (plans.price new; the subscription's old price pinned, the new one pending).
 */

const START = new Date("2031-07-01T06:00:00.000Z");
const OLD = 2_000_000;
const NEW = 2_600_000;
let world: World;

beforeEach(async () => {
  world = await createWorld(START, { env: { PRICE_CHANGE_NOTICE_DAYS: "30" } });
});
afterEach(async () => {
  await world.close();
});

/** A 30-day plan of its own (tests must not reprice the seeded ones), with a subscriber on it. */
async function subscriberOnNewPlan(endsInMs: number) {
  const [plan] = await db
    .insert(plans)
    .values({
      slug: `price-${Math.random().toString(36).slice(2, 10)}`,
      nameUz: "Sinov",
      nameRu: "Тест",
      nameEn: "Test",
      price: OLD,
      durationDays: 30,
    })
    .returning();
  const { sub, user } = await createSubscriber(world, { endsInMs });
  await db.update(subscriptions).set({ planId: plan!.id }).where(eq(subscriptions.id, sub.id));
  return { plan: plan!, sub: await loadSubscription(sub.id), user };
}

/** What POST /admin/plans/{id}/price leaves in the database. */
async function adminChangesPrice(planId: number, subscriptionId: number, at: Date) {
  await db.update(plans).set({ price: NEW }).where(eq(plans.id, planId));
  await db
    .update(subscriptions)
    .set({ renewalPrice: OLD, newRenewalPrice: NEW, newPriceSetAt: at })
    .where(eq(subscriptions.id, subscriptionId));
}

async function outboxOf(subscriptionId: number) {
  const rows = await db
    .select()
    .from(notificationOutbox)
    .where(eq(notificationOutbox.kind, "price_change_notice"));
  return rows.filter((r) => (r.payload as { subscriptionId: number }).subscriptionId === subscriptionId);
}

async function renew(subscriptionId: number) {
  const sub = await loadSubscription(subscriptionId);
  return chargeSubscription(world.renewals.ctx, { subscriptionId, periodEnd: sub.endDate });
}

describe("plan price change", () => {
  it("old price until the notice period passed; one notice, the configured days before the first renewal at the new price", async () => {
    const { plan, sub, user } = await subscriberOnNewPlan(10 * DAY);
    await adminChangesPrice(plan.id, sub.id, START);
    const ctx = world.renewals.ctx;

    // The next renewal (in 9 days) is too soon for 30 days' notice: the one after it (START+39d)
    // is the first at the new price, so the notice is due 30 (+1 slack) days before it.
    expect(await sendPriceChangeNotices(ctx)).toBe(0);
    world.clock.set(new Date(START.getTime() + 7 * DAY));
    expect(await sendPriceChangeNotices(ctx)).toBe(0);
    expect(await outboxOf(sub.id)).toHaveLength(0);

    world.clock.set(new Date(START.getTime() + 8 * DAY + HOUR));
    expect(await sendPriceChangeNotices(ctx)).toBe(1);
    expect(await sendPriceChangeNotices(ctx)).toBe(0);
    const noticed = await loadSubscription(sub.id);
    expect(noticed.newPriceNoticeSentAt?.toISOString()).toBe(world.clock.now().toISOString());
    expect(noticed.newPriceFrom?.toISOString()).toBe(new Date(START.getTime() + 40 * DAY).toISOString());
    const effectiveAt = new Date(START.getTime() + 39 * DAY).toISOString();
    const outbox = await outboxOf(sub.id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]!.payload).toEqual({
      kind: "price_change_notice",
      userId: user.id,
      subscriptionId: sub.id,
      oldAmount: OLD,
      newAmount: NEW,
      effectiveAt,
    });
    // At least the notice period between the notice and the first charge at the new price.
    expect(Date.parse(effectiveAt) - world.clock.now().getTime()).toBeGreaterThanOrEqual(30 * DAY);
    const job = await notificationJob(world, outbox[0]!.payload as never, `${sub.id}-${START.getTime()}`);
    expect(job?.data).toMatchObject({ kind: "price_change_notice", newAmount: NEW });

    // Renewal 1 (START+9d): the old price, although the list price is already the new one.
    world.clock.set(new Date(START.getTime() + 9 * DAY));
    expect((await renew(sub.id)).status).toBe("success");
    // Renewal 2 (START+39d): the new price.
    world.clock.set(new Date(START.getTime() + 39 * DAY));
    expect((await renew(sub.id)).status).toBe("success");
    expect(confirmedCharges(world).map((t) => t.amount)).toEqual([OLD, NEW]);
    expect((await paymentsOf(sub.id)).map((p) => p.amount)).toEqual([OLD, NEW]);
    expect(await sendPriceChangeNotices(ctx)).toBe(0);
    expect(await outboxOf(sub.id)).toHaveLength(1);
  });

  it("no notice, no new price; a notice sent late moves the new price to a later renewal", async () => {
    const { plan, sub } = await subscriberOnNewPlan(40 * DAY);
    await adminChangesPrice(plan.id, sub.id, START);
    // Planned: the renewal at START+39d, notice due by START+9d. The worker was down until START+20d.
    world.clock.set(new Date(START.getTime() + 20 * DAY));
    expect(await sendPriceChangeNotices(world.renewals.ctx)).toBe(1);
    const noticed = await loadSubscription(sub.id);
    expect(noticed.newPriceFrom?.toISOString()).toBe(new Date(START.getTime() + 70 * DAY).toISOString());

    world.clock.set(new Date(START.getTime() + 39 * DAY));
    expect((await renew(sub.id)).status).toBe("success");
    world.clock.set(new Date(START.getTime() + 69 * DAY));
    expect((await renew(sub.id)).status).toBe("success");
    expect(confirmedCharges(world).map((t) => t.amount)).toEqual([OLD, NEW]);
  });

  it("a subscriber never told keeps the old price; auto-renew off gets no notice", async () => {
    const { plan, sub } = await subscriberOnNewPlan(20 * HOUR);
    await adminChangesPrice(plan.id, sub.id, START);
    expect((await renew(sub.id)).status).toBe("success");
    expect(confirmedCharges(world).map((t) => t.amount)).toEqual([OLD]);

    const off = await subscriberOnNewPlan(5 * DAY);
    await adminChangesPrice(off.plan.id, off.sub.id, START);
    await db.update(subscriptions).set({ autoRenew: false }).where(eq(subscriptions.id, off.sub.id));
    world.clock.set(new Date(START.getTime() + 30 * DAY));
    await sendPriceChangeNotices(world.renewals.ctx);
    expect(await outboxOf(off.sub.id)).toHaveLength(0);
  });

  it("a renewal payment carries the public offer its first payment accepted", async () => {
    const { sub, user } = await subscriberOnNewPlan(20 * HOUR);
    const acceptedAt = new Date(START.getTime() - 29 * DAY);
    await db.insert(payments).values({
      userId: user.id,
      subscriptionId: sub.id,
      kind: "initial",
      status: "success",
      amount: OLD,
      idempotencyKey: `session:test-${sub.id}`,
      offerVersion: "2031-06",
      offerAcceptedAt: acceptedAt,
    });
    expect((await renew(sub.id)).status).toBe("success");
    const renewal = (await paymentsOf(sub.id)).find((p) => p.kind === "renewal");
    expect(renewal).toMatchObject({ offerVersion: "2031-06", offerAcceptedAt: acceptedAt });
  });
});
