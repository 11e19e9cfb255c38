import { eq, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import {
  insertRenewalAttemptIfUnchanged,
  lockSubscriptionForRenewal,
  readSubscriptionForRenewal,
} from "../src/queries/index";
import { renewalAttempts, subscriptions } from "../src/schema/index";
import { openTransaction, testDatabaseUrl, waitUntilBlockedBy } from "../src/testing/index";
import { subscriptionMaker } from "./fixtures";

/**
 * `insertRenewalAttemptIfUnchanged` (src/queries/renewals.ts): the worker starts a renewal attempt
 * from an unlocked read. The attempt may be written only while the subscription row is still the
 * version that read saw; otherwise nothing is written and the worker decides again under the lock.
 */
const handle = createDb(testDatabaseUrl("db"), { max: 4 });
const { db } = handle;
const newSubscription = subscriptionMaker(db, 7_800_000_000);

afterAll(() => handle.close());

async function readAndStart(subscriptionId: number) {
  const read = await readSubscriptionForRenewal(db, subscriptionId);
  const now = new Date();
  const start = (attemptNumber = 1) =>
    insertRenewalAttemptIfUnchanged(db, {
      subscriptionId,
      version: read!.version,
      periodEnd: read!.subscription.endDate,
      attemptNumber,
      amount: 1_234_500,
      nextCheckAt: new Date(now.getTime() + 600_000),
      now,
    });
  const attempts = () =>
    db.select().from(renewalAttempts).where(eq(renewalAttempts.subscriptionId, subscriptionId));
  return { read: read!, now, start, attempts };
}

describe("insertRenewalAttemptIfUnchanged", () => {
  it("writes the pending attempt as given while the subscription is the version read", async () => {
    const { sub, plan } = await newSubscription();
    const s = await readAndStart(sub.id);
    expect(s.read.plan.id).toBe(plan.id);
    const id = await s.start();
    expect(id).toEqual(expect.any(Number));
    const [attempt] = await s.attempts();
    expect(attempt).toMatchObject({
      id,
      subscriptionId: sub.id,
      periodEnd: sub.endDate,
      attemptNumber: 1,
      status: "pending",
      amount: 1_234_500,
      nextCheckAt: new Date(s.now.getTime() + 600_000),
      createdAt: s.now,
      updatedAt: s.now,
      externalId: null,
    });
  });

  it("writes nothing when the subscription row was updated after the read, even back to the same values", async () => {
    const { sub } = await newSubscription();
    const s = await readAndStart(sub.id);
    await db.update(subscriptions).set({ autoRenew: false }).where(eq(subscriptions.id, sub.id));
    await db.update(subscriptions).set({ autoRenew: true }).where(eq(subscriptions.id, sub.id));
    expect(await s.start()).toBeNull();
    expect(await s.attempts()).toHaveLength(0);
  });

  it("waits for a transaction holding the subscription, then refuses if it changed the row", async () => {
    const { sub } = await newSubscription();
    const s = await readAndStart(sub.id);
    // A cancel that has not committed yet.
    const cancel = await openTransaction(db, (tx) =>
      tx.update(subscriptions).set({ autoRenew: false }).where(eq(subscriptions.id, sub.id)),
    );
    const start = s.start();
    // The insert is blocked on the subscription's row lock: it did not go ahead on the version it saw.
    await waitUntilBlockedBy(db, cancel.pid);
    await cancel.commit();
    expect(await start).toBeNull();
    expect(await s.attempts()).toHaveLength(0);
  });

  it("goes ahead after a transaction that only locked the row", async () => {
    const { sub } = await newSubscription();
    const s = await readAndStart(sub.id);
    await db.transaction(async (tx) => {
      await tx.execute(sql`select id from subscriptions where id = ${sub.id} for update`);
    });
    expect(await s.start()).toEqual(expect.any(Number));
    expect(await s.attempts()).toHaveLength(1);
  });

  it("refuses a second attempt with the same number (the unique key), whatever the version says", async () => {
    const { sub } = await newSubscription();
    const first = await readAndStart(sub.id);
    const second = await readAndStart(sub.id);
    expect(await first.start()).toEqual(expect.any(Number));
    await expect(second.start()).rejects.toMatchObject({ cause: { code: "23505" } });
    expect(await second.attempts()).toHaveLength(1);
  });

  it("reads what the locked read returns, and a version that changes with every update", async () => {
    const { sub } = await newSubscription();
    const read = await readSubscriptionForRenewal(db, sub.id);
    const locked = await db.transaction((tx) => lockSubscriptionForRenewal(tx, sub.id));
    // The same row, version included: locking a row does not change its version.
    expect(read).toEqual(locked);
    await db.update(subscriptions).set({ autoRenew: true }).where(eq(subscriptions.id, sub.id));
    expect((await readSubscriptionForRenewal(db, sub.id))!.version).not.toBe(read!.version);
    expect(await readSubscriptionForRenewal(db, -1)).toBeNull();
  });
});
