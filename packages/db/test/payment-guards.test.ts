/**
 * The database's last guard against a double grant: at most one successful payment per payment
 * session and per subscription renewal period, whatever the application code does.
 */
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import { getPlanBySlug, upsertTelegramUser } from "../src/queries/index";
import { paymentSessions, payments, subscriptions } from "../src/schema/index";
import { testDatabaseUrl } from "../src/testing/index";

const handle = createDb(testDatabaseUrl("db"), { max: 4 });
const { db } = handle;
let nextTelegramId = 7_100_000_000 + Math.floor(Math.random() * 1_000_000);

afterAll(() => handle.close());

/** The Postgres error code of a failed statement (drizzle wraps it in `cause`). */
async function pgCode(statement: Promise<unknown>): Promise<string | null> {
  try {
    await statement;
    return null;
  } catch (error) {
    for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string") return code;
    }
    throw error;
  }
}

async function userWithPlan() {
  const user = await upsertTelegramUser(db, { telegramId: nextTelegramId++ });
  const plan = (await getPlanBySlug(db, "monthly"))!;
  return { user, plan };
}

describe("one successful payment per session and per renewal period", () => {
  it("refuses a second successful payment for the same payment session", async () => {
    const { user, plan } = await userWithPlan();
    const [session] = await db
      .insert(paymentSessions)
      .values({
        userId: user.id,
        planId: plan.id,
        amount: plan.price,
        expiresAt: new Date(Date.now() + 30 * 60_000),
      })
      .returning();
    const row = (status: "success" | "failed" | "reversed", n: number) => ({
      userId: user.id,
      sessionId: session!.id,
      kind: "initial" as const,
      status,
      amount: plan.price,
      externalId: String(900_000 + n),
      idempotencyKey: `guard:${randomUUID()}`,
    });
    expect(await pgCode(db.insert(payments).values(row("success", 1)))).toBeNull();
    expect(await pgCode(db.insert(payments).values(row("success", 2)))).toBe("23505");
    // Failed and refunded rows for the session are not successes: they may coexist.
    expect(await pgCode(db.insert(payments).values(row("failed", 3)))).toBeNull();
    expect(await pgCode(db.insert(payments).values(row("reversed", 4)))).toBeNull();
  });

  it("refuses a second successful renewal for the same subscription period", async () => {
    const { user, plan } = await userWithPlan();
    const periodStart = new Date("2034-05-01T00:00:00.000Z");
    const [sub] = await db
      .insert(subscriptions)
      .values({
        userId: user.id,
        planId: plan.id,
        status: "active",
        startDate: new Date(periodStart.getTime() - 30 * 86_400_000),
        endDate: periodStart,
      })
      .returning();
    const row = (start: Date, n: number, kind: "renewal" | "initial" = "renewal") => ({
      userId: user.id,
      subscriptionId: sub!.id,
      kind,
      status: "success" as const,
      amount: plan.price,
      externalId: String(910_000 + n),
      idempotencyKey: `guard:${randomUUID()}`,
      periodStart: start,
      periodEnd: new Date(start.getTime() + 30 * 86_400_000),
    });
    expect(await pgCode(db.insert(payments).values(row(periodStart, 1)))).toBeNull();
    // attempt 2 of the same period (another idempotency key): refused by the database
    expect(await pgCode(db.insert(payments).values(row(periodStart, 2)))).toBe("23505");
    // the next period renews normally
    const next = new Date(periodStart.getTime() + 30 * 86_400_000);
    expect(await pgCode(db.insert(payments).values(row(next, 3)))).toBeNull();
    // a failed renewal of the paid period is not a success
    expect(
      await pgCode(db.insert(payments).values({ ...row(periodStart, 4), status: "failed" as const })),
    ).toBeNull();
  });
});
