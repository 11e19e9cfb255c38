import { eq, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/client";
import {
  insertAuditEntry,
  insertPayment,
  insertRenewalAttempt,
  listPeriodAttempts,
  lockSubscription,
  lockSubscriptionForRenewal,
  nextPaymentId,
  recordAttemptTransaction,
  updateRenewalAttempt,
  updateSubscription,
} from "../src/queries/index";
import { auditLog, payments, renewalAttempts, subscriptions } from "../src/schema/index";
import { testDatabaseUrl } from "../src/testing/index";
import { subscriptionMaker } from "./fixtures";

/**
 * The prepared hot-path queries (src/prepared.ts) are built once but must run on the handle they are
 * given: inside a transaction, on that transaction's connection (they see its uncommitted rows, take
 * its locks, roll back with it).
 */
const handle = createDb(testDatabaseUrl("db"), { max: 4 });
const { db } = handle;
const newSubscription = subscriptionMaker(db, 7_500_000_000);

afterAll(() => handle.close());

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
        expect(await recordAttemptTransaction(tx, attempt!.id, "4242", new Date())).toBe(true);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    expect(await listPeriodAttempts(db, sub.id, sub.endDate)).toEqual([]);
  });

  it("record an attempt's ATMOS transaction with the time given, not the time the query was built", async () => {
    const { sub } = await newSubscription();
    const [attempt] = await db
      .insert(renewalAttempts)
      .values({ subscriptionId: sub.id, periodEnd: sub.endDate, attemptNumber: 1, amount: 100 })
      .returning();
    const at = new Date("2031-01-02T03:04:05.678Z");
    expect(await recordAttemptTransaction(db, attempt!.id, "tx-1", at)).toBe(true);
    const [row] = await db.select().from(renewalAttempts).where(eq(renewalAttempts.id, attempt!.id));
    expect(row).toMatchObject({ externalId: "tx-1", updatedAt: at });
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

  // The writes whose columns vary by call (insert/update, src/prepared.ts preparedInsert/preparedUpdateById).
  it("bind each value as drizzle would: dates to the millisecond, null as SQL NULL, JSON as jsonb", async () => {
    const { sub } = await newSubscription();
    const at = new Date("2026-03-04T05:06:07.089Z");
    const attemptId = await insertRenewalAttempt(db, {
      subscriptionId: sub.id,
      periodEnd: sub.endDate,
      attemptNumber: 1,
      amount: 100,
      errorMessage: null,
      nextCheckAt: at,
      createdAt: at,
      updatedAt: at,
    });
    await updateRenewalAttempt(db, attemptId, { status: "failed", errorCode: "X", resolvedAt: at });
    await updateRenewalAttempt(db, attemptId, { errorCode: null, nextCheckAt: null });
    const [row] = await db.select().from(renewalAttempts).where(eq(renewalAttempts.id, attemptId));
    expect(row).toMatchObject({ status: "failed", errorCode: null, nextCheckAt: null, createdAt: at });
    expect(row!.resolvedAt).toEqual(at);

    const withNull = await insertAuditEntry(db, {
      actor: "test",
      action: "test.prepared",
      entityType: "subscription",
      entityId: String(sub.id),
      details: null,
      createdAt: at,
    });
    const withJson = await insertAuditEntry(db, {
      actor: "test",
      action: "test.prepared",
      entityType: "subscription",
      entityId: String(sub.id),
      details: { a: 1, nested: { b: [true, null] } },
      createdAt: at,
    });
    const rows = await db.execute<{ id: number; kind: string | null }>(
      sql`select id, jsonb_typeof(details) as kind from audit_log where id in (${withNull}, ${withJson}) order by id`,
    );
    expect(rows.map((r) => r.kind)).toEqual([null, "object"]);
    const [json] = await db.select().from(auditLog).where(eq(auditLog.id, withJson));
    expect(json!.details).toEqual({ a: 1, nested: { b: [true, null] } });
  });

  it("fill $onUpdate columns on every call, never once when the statement is built", async () => {
    const { sub } = await newSubscription();
    const updatedAt = async () =>
      (await db.select().from(subscriptions).where(eq(subscriptions.id, sub.id)))[0]!.updatedAt.getTime();
    await updateSubscription(db, sub.id, { renewalError: "first" });
    const first = await updatedAt();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await updateSubscription(db, sub.id, { renewalError: "second" });
    expect(await updatedAt()).toBeGreaterThan(first);
  });

  it("run on the transaction's connection, and take an SQL expression through drizzle's own build", async () => {
    const { sub } = await newSubscription();
    const rolledBack = new Error("roll back");
    await expect(
      db.transaction(async (tx) => {
        await updateSubscription(tx, sub.id, { renewalError: "inside" });
        await updateSubscription(tx, sub.id, { renewalAttempts: sql`${subscriptions.renewalAttempts} + 2` });
        const [row] = await tx.select().from(subscriptions).where(eq(subscriptions.id, sub.id));
        expect(row).toMatchObject({ renewalError: "inside", renewalAttempts: sub.renewalAttempts + 2 });
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    const [row] = await db.select().from(subscriptions).where(eq(subscriptions.id, sub.id));
    expect(row).toMatchObject({ renewalError: null, renewalAttempts: sub.renewalAttempts });
  });

  it("take a payment id from the payments sequence: the row takes it, and later rows never collide with it", async () => {
    const { user, sub } = await newSubscription();
    const renewal = (n: number) => ({
      userId: user.id,
      subscriptionId: sub.id,
      kind: "renewal" as const,
      status: "failed" as const,
      amount: 100,
      idempotencyKey: `next-id:${sub.id}:${n}`,
    });
    const taken = await db.transaction((tx) => nextPaymentId(tx));
    const second = await nextPaymentId(db);
    expect(second).toBeGreaterThan(taken);
    // Inserted with the id taken, after a row that took the sequence's own next value.
    const [plain] = await db.insert(payments).values(renewal(1)).returning({ id: payments.id });
    expect(plain!.id).toBeGreaterThan(second);
    expect(await insertPayment(db, { ...renewal(2), id: taken })).toBe(taken);
    const [later] = await db.insert(payments).values(renewal(3)).returning({ id: payments.id });
    expect(later!.id).toBeGreaterThan(plain!.id);
  });
});
