import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import {
  listPeriodAttempts,
  lockSubscription,
  lockSubscriptionForRenewal,
  recordAttemptTransaction,
  upsertTelegramUser,
} from "../src/queries/index";
import { plans, renewalAttempts, subscriptions } from "../src/schema/index";
import { testDatabaseUrl } from "../src/testing/index";

/**
 * The prepared hot-path queries (src/prepared.ts) are built once but must run on the handle they are
 * given: inside a transaction, on that transaction's connection (they see its uncommitted rows, take
 * its locks, roll back with it).
 */
const handle = createDb(testDatabaseUrl("db"), { max: 4 });
const { db } = handle;
let nextTelegramId = 7_500_000_000 + Math.floor(Math.random() * 1_000_000);

afterAll(() => handle.close());

async function newSubscription() {
  const user = await upsertTelegramUser(db, { telegramId: nextTelegramId++ });
  const [plan] = await db.select().from(plans).where(eq(plans.slug, "monthly"));
  const endDate = new Date(Date.now() + 3_600_000);
  const [sub] = await db
    .insert(subscriptions)
    .values({
      userId: user.id,
      planId: plan!.id,
      status: "active",
      autoRenew: true,
      startDate: new Date(),
      endDate,
    })
    .returning();
  return { sub: sub!, plan: plan! };
}

describe("prepared hot-path queries", () => {
  it("read the subscription with its plan and no card, typed as drizzle maps them", async () => {
    const { sub, plan } = await newSubscription();
    const row = await db.transaction((tx) => lockSubscriptionForRenewal(tx, sub.id));
    expect(row?.subscription).toEqual(sub);
    expect(row?.subscription.endDate).toBeInstanceOf(Date);
    expect(row?.plan).toEqual(plan);
    expect(row?.card).toBeNull();
    expect(await db.transaction((tx) => lockSubscriptionForRenewal(tx, 2_000_000_000))).toBeNull();
  });

  it("run on the transaction's own connection: its uncommitted rows, and its rollback", async () => {
    const { sub } = await newSubscription();
    const rolledBack = new Error("roll back");
    await expect(
      db.transaction(async (tx) => {
        const [attempt] = await tx
          .insert(renewalAttempts)
          .values({ subscriptionId: sub.id, periodEnd: sub.endDate, attemptNumber: 1, amount: 100 })
          .returning();
        // Only this transaction can see the attempt yet.
        expect((await listPeriodAttempts(tx, sub.id, sub.endDate)).map((a) => a.id)).toEqual([attempt!.id]);
        expect(await listPeriodAttempts(db, sub.id, sub.endDate)).toEqual([]);
        expect(await recordAttemptTransaction(tx, attempt!.id, 4242)).toBe(true);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    expect(await listPeriodAttempts(db, sub.id, sub.endDate)).toEqual([]);
  });

  it("take the row lock in the transaction that holds it", async () => {
    const { sub } = await newSubscription();
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const first = db.transaction(async (tx) => {
      await lockSubscription(tx, sub.id);
      locked();
      await held;
      order.push("first commits");
    });
    await isLocked;
    const second = db.transaction(async (tx) => {
      await lockSubscriptionForRenewal(tx, sub.id);
      order.push("second locked");
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(order).toEqual([]);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(["first commits", "second locked"]);
  });
});
