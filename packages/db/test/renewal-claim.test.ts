import { eq, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import { claimChargeableAttempt } from "../src/queries/index";
import { boundCards, renewalAttempts, subscriptions } from "../src/schema/index";
import { openTransaction, testDatabaseUrl, waitUntilBlockedBy } from "../src/testing/index";
import { subscriptionMaker } from "./fixtures";

/**
 * `claimChargeableAttempt` (src/queries/renewals.ts): the renewal's last check before the charge call
 * in one statement. Every reason the worker's transaction refuses a charge must refuse it here too,
 * and a cancel racing it must either be seen or see the attempt in flight.
 */
const handle = createDb(testDatabaseUrl("db"), { max: 4 });
const { db } = handle;
const newSubscription = subscriptionMaker(db, 7_700_000_000);

afterAll(() => handle.close());

/** A pending attempt of a subscription that passes every check: auto-renewing, live, with a usable card. */
async function chargeable() {
  const { user, sub: bare } = await newSubscription();
  const [card] = await db
    .insert(boundCards)
    .values({
      userId: user.id,
      cardToken: "enc:token",
      cardRef: `ref-${user.id}`,
      panMasked: "860003******4364",
      expiry: "2802",
      cardType: "uzcard",
    })
    .returning();
  const [sub] = await db
    .update(subscriptions)
    .set({ boundCardId: card!.id })
    .where(eq(subscriptions.id, bare.id))
    .returning();
  const endDate = sub!.endDate;
  const [attempt] = await db
    .insert(renewalAttempts)
    .values({ subscriptionId: sub!.id, periodEnd: endDate, attemptNumber: 1, amount: 100, status: "pending" })
    .returning();
  const claim = () =>
    claimChargeableAttempt(db, { attemptId: attempt!.id, subscriptionId: sub!.id, now: new Date() });
  const attemptStatus = async () =>
    (await db.select().from(renewalAttempts).where(eq(renewalAttempts.id, attempt!.id)))[0]!.status;
  return { sub: sub!, card: card!, attempt: attempt!, claim, attemptStatus };
}

describe("claimChargeableAttempt", () => {
  it("claims a pending attempt of a chargeable subscription: it becomes unknown, once", async () => {
    const c = await chargeable();
    expect(await c.claim()).toBe(true);
    expect(await c.attemptStatus()).toBe("unknown");
    expect(await c.claim()).toBe(false);
  });

  const refusals: [string, (c: Awaited<ReturnType<typeof chargeable>>) => Promise<unknown>][] = [
    [
      "auto-renew off",
      (c) => db.update(subscriptions).set({ autoRenew: false }).where(eq(subscriptions.id, c.sub.id)),
    ],
    [
      "subscription expired",
      (c) => db.update(subscriptions).set({ status: "expired" }).where(eq(subscriptions.id, c.sub.id)),
    ],
    [
      "subscription canceled",
      (c) => db.update(subscriptions).set({ status: "canceled" }).where(eq(subscriptions.id, c.sub.id)),
    ],
    [
      "renewed with Telegram Stars",
      (c) => db.update(subscriptions).set({ rail: "stars" }).where(eq(subscriptions.id, c.sub.id)),
    ],
    [
      "period already renewed",
      (c) =>
        db
          .update(subscriptions)
          .set({ endDate: new Date(c.sub.endDate.getTime() + 30 * 86_400_000) })
          .where(eq(subscriptions.id, c.sub.id)),
    ],
    [
      "no bound card",
      (c) => db.update(subscriptions).set({ boundCardId: null }).where(eq(subscriptions.id, c.sub.id)),
    ],
    [
      "card deactivated",
      (c) =>
        db
          .update(boundCards)
          .set({ status: "deactivated", isActive: false })
          .where(eq(boundCards.id, c.card.id)),
    ],
    [
      "card removed",
      (c) =>
        db
          .update(boundCards)
          .set({ status: "removed", isActive: false, removedAt: new Date() })
          .where(eq(boundCards.id, c.card.id)),
    ],
    [
      "card token erased",
      (c) =>
        db
          .update(boundCards)
          .set({ status: "erased", isActive: false, removedAt: new Date(), cardToken: null })
          .where(eq(boundCards.id, c.card.id)),
    ],
    [
      "attempt no longer pending",
      (c) => db.update(renewalAttempts).set({ status: "failed" }).where(eq(renewalAttempts.id, c.attempt.id)),
    ],
  ];
  for (const [reason, change] of refusals) {
    it(`refuses when ${reason}, and leaves the attempt as it was`, async () => {
      const c = await chargeable();
      await change(c);
      const before = await c.attemptStatus();
      expect(await c.claim()).toBe(false);
      expect(await c.attemptStatus()).toBe(before);
    });
  }

  it("waits for a cancel holding the subscription and then sees it: not claimed", async () => {
    const c = await chargeable();
    // The cancel: auto-renew off in a transaction that has not committed yet.
    const cancel = await openTransaction(db, (tx) =>
      tx.update(subscriptions).set({ autoRenew: false }).where(eq(subscriptions.id, c.sub.id)),
    );
    const claim = c.claim();
    // The claim is blocked on the subscription's row lock (it did not answer from the row it saw).
    await waitUntilBlockedBy(db, cancel.pid);
    await cancel.commit();
    expect(await claim).toBe(false);
    expect(await c.attemptStatus()).toBe("pending");
  });

  it("holds the subscription until it commits: a cancel after it waits, then sees the attempt in flight", async () => {
    const c = await chargeable();
    await db.transaction(async (tx) => {
      expect(
        await claimChargeableAttempt(tx, {
          attemptId: c.attempt.id,
          subscriptionId: c.sub.id,
          now: new Date(),
        }),
      ).toBe(true);
      // Another connection cannot take the subscription's row while the claim is open.
      await expect(
        db.execute(sql`select id from subscriptions where id = ${c.sub.id} for update nowait`),
      ).rejects.toMatchObject({ cause: { code: "55P03" } });
    });
    await db.update(subscriptions).set({ autoRenew: false }).where(eq(subscriptions.id, c.sub.id));
    expect(await c.attemptStatus()).toBe("unknown");
  });
});
