import { createDb, type Transaction } from "@obuna/db";
import { getPlanBySlug, upsertTelegramUser } from "@obuna/db/queries";
import {
  auditLog,
  boundCards,
  notificationOutbox,
  paymentSessions,
  payments,
  renewalAttempts,
  subscriptions,
  users,
} from "@obuna/db/schema";
import { testDatabaseUrl } from "@obuna/db/testing";
import { asc, eq, sql } from "drizzle-orm";
import type { BillingDeps } from "../src/deps";

export const DAY = 86_400_000;
export const handle = createDb(testDatabaseUrl("billing"), { max: 4 });
export const db = handle.db;

export const NOW = new Date("2026-12-01T10:00:00Z");
export const deps: BillingDeps = { clock: () => NOW };
export const at = (date: Date): BillingDeps => ({ clock: () => date });

let nextTelegramId = 7_000_000_000 + Math.floor(Math.random() * 100_000_000);

/** Every table but the plans (seeded by prepareTestDatabase) emptied. */
export async function resetDatabase() {
  await db.execute(
    sql`truncate renewal_attempts, payments, provider_callbacks, payment_sessions, subscriptions, bound_cards, audit_log, idempotency_keys, notification_outbox, users cascade`,
  );
}

export async function monthlyPlan() {
  return (await getPlanBySlug(db, "monthly"))!;
}

export async function createUser(role: "user" | "premium" | "admin" = "user") {
  const user = await upsertTelegramUser(db, { telegramId: nextTelegramId++, firstName: "Test" });
  if (role !== "user") await db.update(users).set({ role }).where(eq(users.id, user.id));
  return { ...user, role };
}

export async function roleOf(userId: number) {
  const [row] = await db.select({ role: users.role }).from(users).where(eq(users.id, userId));
  return row!.role;
}

export async function createCard(userId: number, overrides: Partial<typeof boundCards.$inferInsert> = {}) {
  const [card] = await db
    .insert(boundCards)
    .values({
      userId,
      cardToken: "encrypted-token-placeholder",
      cardRef: String(Math.floor(Math.random() * 1_000_000)),
      panMasked: "860012******1234",
      expiry: "3012",
      cardType: "uzcard",
      isActive: true,
      ...overrides,
    })
    .returning();
  return card!;
}

export async function createSubscription(
  userId: number,
  overrides: Partial<typeof subscriptions.$inferInsert> = {},
) {
  const plan = await monthlyPlan();
  const [sub] = await db
    .insert(subscriptions)
    .values({
      userId,
      planId: plan.id,
      status: "active",
      autoRenew: false,
      startDate: new Date(NOW.getTime() - 20 * DAY),
      endDate: new Date(NOW.getTime() + 10 * DAY),
      ...overrides,
    })
    .returning();
  return sub!;
}

export async function createSession(
  userId: number,
  overrides: Partial<typeof paymentSessions.$inferInsert> = {},
) {
  const plan = await monthlyPlan();
  const [session] = await db
    .insert(paymentSessions)
    .values({
      userId,
      planId: plan.id,
      status: "processing",
      amount: plan.price,
      externalId: String(Math.floor(Math.random() * 1_000_000_000)),
      cardMasked: "860012******1234",
      expiresAt: new Date(NOW.getTime() + 30 * 60_000),
      ...overrides,
    })
    .returning();
  return session!;
}

export async function createAttempt(
  sub: { id: number; endDate: Date },
  overrides: Partial<typeof renewalAttempts.$inferInsert> = {},
) {
  const [attempt] = await db
    .insert(renewalAttempts)
    .values({
      subscriptionId: sub.id,
      periodEnd: sub.endDate,
      attemptNumber: 1,
      status: "unknown",
      amount: 2_900_000,
      externalId: String(Math.floor(Math.random() * 1_000_000_000)),
      ...overrides,
    })
    .returning();
  return attempt!;
}

export async function subscriptionRow(id: number) {
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.id, id));
  return row!;
}

export async function auditRows() {
  return db.select().from(auditLog).orderBy(asc(auditLog.id));
}

export async function outboxRows() {
  return db.select().from(notificationOutbox).orderBy(asc(notificationOutbox.id));
}

export async function paymentRows() {
  return db.select().from(payments).orderBy(asc(payments.id));
}

/** Runs `work` in a transaction that is then rolled back (the error is swallowed). */
export async function inRolledBackTx(work: (tx: Transaction) => Promise<unknown>) {
  const rollback = new Error("rolled back on purpose");
  await db
    .transaction(async (tx) => {
      await work(tx);
      throw rollback;
    })
    .catch((error) => {
      if (error !== rollback) throw error;
    });
}
