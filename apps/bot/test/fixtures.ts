import { createDb, schema } from "@obuna/db";
import { getPlanBySlug, upsertTelegramUser } from "@obuna/db/queries";
import { testDatabaseUrl } from "@obuna/db/testing";

const { subscriptions, payments, boundCards, users } = schema;

export function openTestDb() {
  return createDb(testDatabaseUrl("bot"), { max: 10 });
}
export type TestDb = ReturnType<typeof openTestDb>["db"];

let nextTelegramId = 8_000_000_000 + Math.floor(Math.random() * 100_000_000);

/** A user with a monthly subscription, a bound card and one successful payment. */
export async function createPayingUser(
  db: TestDb,
  options: { languageCode?: string; status?: "active" | "past_due" | "expired"; autoRenew?: boolean } = {},
) {
  const user = await upsertTelegramUser(db, {
    telegramId: nextTelegramId++,
    firstName: "Ali",
    languageCode: options.languageCode ?? "uz",
  });
  const plan = (await getPlanBySlug(db, "monthly"))!;
  const [card] = await db
    .insert(boundCards)
    .values({
      userId: user.id,
      cardToken: "encrypted-test-token",
      cardRef: String(user.id),
      panMasked: "860049******1234",
      expiry: "2612",
      cardType: "uzcard",
    })
    .returning();
  const [subscription] = await db
    .insert(subscriptions)
    .values({
      userId: user.id,
      planId: plan.id,
      status: options.status ?? "active",
      autoRenew: options.autoRenew ?? true,
      startDate: new Date("2026-11-01T00:00:00Z"),
      endDate: new Date("2026-12-01T00:00:00Z"),
      boundCardId: card!.id,
    })
    .returning();
  const [payment] = await db
    .insert(payments)
    .values({
      userId: user.id,
      subscriptionId: subscription!.id,
      boundCardId: card!.id,
      kind: "initial",
      status: "success",
      amount: plan.price,
      cardMasked: "860049******1234",
      idempotencyKey: `test:${user.id}`,
    })
    .returning();
  return { user, plan, card: card!, subscription: subscription!, payment: payment! };
}

/** Many users with an expired subscription each, inserted in bulk (for the burst test). */
export async function createExpiredUsers(db: TestDb, count: number) {
  const plan = (await getPlanBySlug(db, "monthly"))!;
  const inserted = await db
    .insert(users)
    .values(Array.from({ length: count }, () => ({ telegramId: nextTelegramId++, languageCode: "en" })))
    .returning({ id: users.id, telegramId: users.telegramId });
  const subs = await db
    .insert(subscriptions)
    .values(
      inserted.map((u) => ({
        userId: u.id,
        planId: plan.id,
        status: "expired" as const,
        startDate: new Date("2026-10-01T00:00:00Z"),
        endDate: new Date("2026-11-01T00:00:00Z"),
      })),
    )
    .returning({ id: subscriptions.id, userId: subscriptions.userId });
  const byUser = new Map(subs.map((s) => [s.userId, s.id]));
  return inserted.map((u) => ({ ...u, subscriptionId: byUser.get(u.id)! }));
}
