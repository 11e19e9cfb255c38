import { eq } from "drizzle-orm";
import type { Database } from "../src/client";
import { upsertTelegramUser } from "../src/queries/index";
import { plans, subscriptions } from "../src/schema/index";

/**
 * A maker of live auto-renewing subscriptions on the monthly plan, each for a new user, ending in an
 * hour. `firstTelegramId` keeps each test file's users apart (files run in parallel on one database).
 */
export function subscriptionMaker(db: Database, firstTelegramId: number) {
  let nextTelegramId = firstTelegramId + Math.floor(Math.random() * 1_000_000);
  return async function newSubscription(overrides: Partial<typeof subscriptions.$inferInsert> = {}) {
    const user = await upsertTelegramUser(db, { telegramId: nextTelegramId++ });
    const [plan] = await db.select().from(plans).where(eq(plans.slug, "monthly"));
    const [sub] = await db
      .insert(subscriptions)
      .values({
        userId: user.id,
        planId: plan!.id,
        status: "active",
        autoRenew: true,
        startDate: new Date(),
        endDate: new Date(Date.now() + 3_600_000),
        ...overrides,
      })
      .returning();
    return { user, sub: sub!, plan: plan! };
  };
}
